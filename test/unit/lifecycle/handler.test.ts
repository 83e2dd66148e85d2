import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.js';
import { observeInputSchema, phaseInputSchema } from '../../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../../shared/lifecycle/deps.js';
import { taskHandler } from '../../../shared/lifecycle/handler.js';

const context = { functionName: 'test', awsRequestId: 'req-1' } as Context;
// Parsing happens before the core runs, so these tests never reach the dependencies.
const unusedDeps = {} as LifecycleDeps;

describe('task handler', () => {
  it('rejects malformed task input with a ValidationError naming each field, without running the core', async () => {
    // Prepare
    const calls: unknown[] = [];
    const handler = taskHandler(phaseInputSchema, async (input) => calls.push(input), unusedDeps);

    // Act
    const error = await handler({ experiment: { id: '', spec: { name: 'x', chaos_type: 'nope' } } }, context).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    const fields = (error as ValidationError).issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['experiment.id', 'experiment.spec.chaos_type', 'experiment.deadline']));
    expect((error as ValidationError).message).toMatch(/^Invalid task input: /);
    expect(calls).toEqual([]);
  });

  it('hands the core parsed input with defaults filled, its dependencies and an abort signal', async () => {
    // Prepare
    const seen: { input?: unknown; deps?: unknown; signal?: unknown } = {};
    const handler = taskHandler(
      observeInputSchema,
      async (input, deps, signal) => Object.assign(seen, { input, deps, signal }),
      unusedDeps,
    );
    const experiment = {
      id: 'exp-1',
      spec: { name: 'x', chaos_type: 'pod_delete', target: { labels: { app: 'demo' } } },
      deadline: 1,
      phaseTimeoutSeconds: 60,
      rollbackTimeoutSeconds: 300,
    };

    // Act
    await handler({ experiment, observe: {} }, context);

    // Assess
    expect(seen.deps).toBe(unusedDeps);
    expect(seen.signal).toBeInstanceOf(AbortSignal);
    const input = seen.input as { observe: { tick: number; done: boolean }; experiment: { spec: { safety: { timeout_seconds: number } } } };
    expect(input.observe).toMatchObject({ tick: 0, done: false });
    expect(input.experiment.spec.safety.timeout_seconds).toBe(120);
  });
});
