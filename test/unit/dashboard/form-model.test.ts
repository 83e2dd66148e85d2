/**
 * The new-experiment form's model (dashboard/src/experiments/form-model.ts), read from the real OpenAPI document the
 * server serves: an input for every field of every chaos type and probe type, the body it builds taken by the API's
 * own schema, a value the API would refuse sent as typed (for the API to name), and the API's field errors placed
 * beside their inputs.
 */
import { describe, expect, it } from 'vitest';
import {
  applyDraft,
  emptyProbe,
  emptyState,
  formModel,
  fromBody,
  inputPaths,
  placeIssues,
  toBody,
  type FormState,
} from '../../../dashboard/src/experiments/form-model.js';
import type { OpenApiDocument } from '../../../dashboard/src/api.js';
import { apiDocument } from '../../../functions/rest.js';
import { experimentRequest } from '../../../functions/api/routes.js';
import { CHAOS_TYPES } from '../../../shared/model/experiment.js';

const model = formModel(apiDocument('local') as unknown as OpenApiDocument);

/** A target each chaos type can be given, written as a person types it into the form. */
const TARGETS: Record<string, Record<string, string>> = {
  pod_delete: { 'target.labels': 'app=demo' },
  network_latency: { 'target.labels': 'app=demo' },
  network_loss: { 'target.labels': 'app=demo' },
  cpu_stress: { 'target.labels': 'app=demo' },
  memory_stress: { 'target.labels': 'app=demo' },
  ec2_stop: { 'target.instance_ids': 'i-0123456789abcdef0, i-0123456789abcdef1' },
  rds_failover: { 'target.db_cluster_identifier': 'orders' },
  route_blackhole: { 'target.route_table_id': 'rtb-0123456789abcdef0' },
};

describe('the experiment form, from the OpenAPI document', () => {
  it('has every chaos type, each with its target and parameters, the safety settings and every probe type', () => {
    expect(model.chaosTypes).toEqual([...CHAOS_TYPES]);
    const latency = model.variants.get('network_latency');
    expect(latency?.parameters.map((field) => [field.path, field.kind, field.default])).toEqual([
      ['parameters.latency_ms', 'number', 100],
      ['parameters.jitter_ms', 'number', 0],
      ['parameters.container', 'text', undefined],
      ['parameters.interface', 'text', undefined],
      ['parameters.duration_seconds', 'number', 30],
    ]);
    expect(latency?.target.map((field) => `${field.path}:${field.kind}`)).toEqual([
      'target.provider:text', 'target.namespace:text', 'target.labels:map', 'target.pod_names:list', 'target.field_selectors:text', 'target.cluster:text', 'target.selection:text',
    ]);
    // An AWS target's provider is fixed (`aws`): no input; its filters (objects) are written as JSON.
    expect(model.variants.get('ec2_stop')?.target.map((field) => `${field.key}:${field.kind}`)).toEqual([
      'instance_ids:list', 'tags:map', 'filters:json', 'region:text', 'role_arn:text', 'selection:text',
    ]);
    for (const type of CHAOS_TYPES) expect(model.variants.get(type)?.parameters.some((field) => field.key === 'duration_seconds'), type).toBe(true);
    expect(model.safety.map((field) => field.key)).toEqual(['timeout_seconds', 'max_blast_radius', 'require_confirmation', 'dry_run', 'health_check_interval', 'health_check_failure_threshold']);
    expect(model.common.map((field) => field.key)).toEqual(['name', 'description', 'ai_enabled']);
    expect(model.common.find((field) => field.key === 'name')?.required).toBe(true);
    expect([...model.probes.keys()].sort()).toEqual(['cloudwatch_alarm', 'cmd', 'http', 'k8s', 'prometheus']);
    const http = new Map((model.probes.get('http') ?? []).map((field) => [field.path, field]));
    expect(http.get('properties.url')).toMatchObject({ kind: 'text', required: true });
    expect(http.get('properties.expected_status')).toMatchObject({ kind: 'list', single: true, numericItems: true, default: 200 });
    expect(http.get('properties.method')).toMatchObject({ kind: 'choice', options: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] });
    expect(http.get('mode')).toMatchObject({ kind: 'choice', default: 'continuous' });
    expect(model.probes.get('prometheus')?.find((field) => field.key === 'tolerance')).toMatchObject({ kind: 'json', required: true });
  });

  it('builds, for every chaos type, a body the API takes', () => {
    for (const type of CHAOS_TYPES) {
      const state: FormState = { chaosType: type, values: { name: `form-${type}`, ...TARGETS[type] }, probes: [] };

      const { body, problems } = toBody(model, state);

      expect(problems).toEqual([]);
      const parsed = experimentRequest.safeParse(body);
      expect(parsed.success, `${type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  it('builds the body a person means: numbers, lists, pairs, checkboxes against their defaults, probes; empty inputs left to the defaults', () => {
    const state: FormState = {
      chaosType: 'network_latency',
      values: {
        name: ' latency-demo ',
        description: '',
        ai_enabled: false,
        'target.provider': 'sandbox',
        'target.labels': 'app=demo, tier = web',
        'target.selection': 'ALL',
        'parameters.latency_ms': '300',
        'parameters.duration_seconds': '10',
        'safety.max_blast_radius': '0.5',
        'safety.require_confirmation': false,
        'safety.dry_run': true,
      },
      probes: [
        { type: 'http', values: { name: 'answers', 'properties.url': 'http://127.0.0.1:9/health', 'properties.expected_status': '200, 204', 'properties.max_latency_ms': '500' } },
        { type: 'cmd', values: { name: 'runs', 'properties.command': 'true' } },
      ],
    };

    const { body, problems } = toBody(model, state);

    expect(problems).toEqual([]);
    expect(body).toEqual({
      name: 'latency-demo',
      chaos_type: 'network_latency',
      target: { provider: 'sandbox', labels: { app: 'demo', tier: 'web' }, selection: 'ALL' },
      parameters: { latency_ms: 300, duration_seconds: 10 },
      safety: { max_blast_radius: 0.5, dry_run: true },
      probes: [
        { type: 'http', name: 'answers', properties: { url: 'http://127.0.0.1:9/health', expected_status: [200, 204], max_latency_ms: 500 } },
        { type: 'cmd', name: 'runs', properties: { command: 'true' } },
      ],
      ai_enabled: false,
    });
    expect(experimentRequest.safeParse(body).success).toBe(true);
  });

  it('sends a value the API would refuse as typed, for the API to name; only what cannot be sent is a problem of the form', () => {
    const state: FormState = {
      chaosType: 'network_latency',
      values: { name: 'x', 'target.labels': 'app', 'parameters.latency_ms': 'fast', 'safety.max_blast_radius': '2' },
      probes: [{ type: 'prometheus', values: { name: 'p', 'properties.url': 'http://p:9090', 'properties.query': 'up', 'properties.tolerance': '{lt: 1}' } }],
    };

    const { body, problems } = toBody(model, state);

    expect(body).toMatchObject({ parameters: { latency_ms: 'fast' }, safety: { max_blast_radius: 2 } });
    expect(problems).toEqual([
      { field: 'target.labels', message: '"app" is not key=value: write pairs such as app=demo, separated by commas' },
      { field: 'probes[0].properties.tolerance', message: expect.stringMatching(/^not valid JSON/) },
    ]);
  });

  it('reads an experiment back into the form, naming what it has no input for', () => {
    const state: FormState = {
      chaosType: 'ec2_stop',
      values: { name: 'stop-one', 'target.tags': 'chaos=yes', 'target.filters': '[{"name":"instance-state-name","values":["running"]}]', 'parameters.force': true },
      probes: [{ type: 'http', values: { name: 'up', mode: 'sot', 'properties.url': 'https://shop.example/health', 'properties.headers': 'x-probe=1' } }],
    };
    const { body } = toBody(model, state);

    expect(fromBody(model, body)).toEqual({ state, left: [] });
    expect(fromBody(model, { ...body, target: { ...(body.target as object), provider: 'aws', colour: 'red' }, extra: 1 })?.left).toEqual(['target.colour', 'extra']);
    expect(fromBody(model, { format: 'chaostoolkit', name: 'ctk', experiment: {} })).toBeUndefined();
    expect(fromBody(model, { chaos_type: 'teleport' })).toBeUndefined();
  });

  it('fills the target from another tab, choosing a chaos type whose target has those fields, and keeps the rest', () => {
    const state: FormState = { ...emptyState(model, 'pod_delete'), values: { name: 'from-topology', 'parameters.duration_seconds': '5' } };

    const filled = applyDraft(model, state, { target: { provider: 'aws', instance_ids: ['i-0123456789abcdef0'] } }, true);
    const sandbox = applyDraft(model, state, { target: { provider: 'sandbox', labels: { app: 'demo' } } }, true);

    expect(filled?.state.chaosType).toBe('ec2_stop');
    expect(filled?.state.values).toMatchObject({ name: 'from-topology', 'target.instance_ids': 'i-0123456789abcdef0', 'parameters.duration_seconds': '5' });
    expect(sandbox?.state).toMatchObject({ chaosType: 'pod_delete', values: { name: 'from-topology', 'target.provider': 'sandbox', 'target.labels': 'app=demo' } });
  });
});

describe("the API's field errors, beside their inputs", () => {
  const state: FormState = { ...emptyState(model, 'network_latency'), probes: [emptyProbe('http'), emptyProbe('prometheus')] };
  const inputs = inputPaths(model, state);

  it('places each at its input, or the nearest one above it; the rest go to the top of the form', () => {
    const { placed, unplaced } = placeIssues(
      [
        { field: 'parameters.latency_ms', message: 'Invalid input: expected number, received string' },
        { field: 'target.labels', message: 'at least one label (or pod_names) is needed to select targets' },
        { field: 'target.labels.app', message: 'Too big: expected string to have <=63 characters' },
        { field: 'probes[0].properties.url', message: 'must be an http or https URL' },
        { field: 'probes[0].properties.expected_status[1]', message: 'Too big: expected number to be <=599' },
        { field: 'probes[1].properties.tolerance.lt', message: 'no value is both greater than 2 (gt) and less than 1 (lt)' },
        { field: 'safety.max_blast_radius', message: 'Too big: expected number to be <=1' },
        { field: 'target.region', message: 'no AWS region' },
        { field: 'probes[5].name', message: 'duplicate probe name "a"' },
        { field: '', message: 'Invalid experiment' },
      ],
      inputs,
    );

    expect(Object.fromEntries(placed)).toEqual({
      'parameters.latency_ms': ['Invalid input: expected number, received string'],
      'target.labels': ['at least one label (or pod_names) is needed to select targets', 'Too big: expected string to have <=63 characters'],
      'probes[0].properties.url': ['must be an http or https URL'],
      'probes[0].properties.expected_status': ['Too big: expected number to be <=599'],
      'probes[1].properties.tolerance': ['no value is both greater than 2 (gt) and less than 1 (lt)'],
      'safety.max_blast_radius': ['Too big: expected number to be <=1'],
    });
    expect(unplaced.map((issue) => issue.field)).toEqual(['target.region', 'probes[5].name', '']);
  });
});
