/**
 * How the new-experiment form opens (initialForm of dashboard/src/experiments/form-model.ts): as the person left it, with a
 * draft from another tab applied to that (a target merged in, or a whole experiment), and empty when fresh.
 */
import { describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../../dashboard/src/api.js';
import { emptyState, formModel, initialForm, toBody } from '../../../dashboard/src/experiments/form-model.js';
import { apiDocument } from '../../../functions/rest.js';

const model = formModel(apiDocument('local') as unknown as OpenApiDocument);

describe('the form as it opens', () => {
  const typed = { ...emptyState(model, 'network_latency'), values: { name: 'typed-before', 'parameters.latency_ms': '200' } };
  const left = { state: typed, mode: 'form' as const, text: '', left: [] };

  it('is empty when fresh, and as it was left otherwise', () => {
    expect(initialForm(model, undefined, undefined)).toEqual({ state: emptyState(model), mode: 'form', text: '', left: [] });
    expect(initialForm(model, left, undefined)).toBe(left);
  });

  it('takes a target from the Topology tab into what was typed, and a whole experiment in its place', () => {
    const target = { provider: 'sandbox', pod_names: ['replica-1'], selection: 'ALL' };
    const merged = initialForm(model, left, { experiment: { target }, merge: true });
    expect(toBody(model, merged.state).body).toMatchObject({ name: 'typed-before', chaos_type: 'network_latency', parameters: { latency_ms: 200 }, target });

    const whole = initialForm(model, left, { experiment: { name: 'generated', chaos_type: 'pod_delete', target: { provider: 'sandbox', labels: { app: 'demo' } } }, merge: false });
    const body = toBody(model, whole.state).body as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'generated', chaos_type: 'pod_delete' });
    expect(body.parameters).not.toMatchObject({ latency_ms: 200 });
  });
});
