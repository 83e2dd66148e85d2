/**
 * The Chaos Toolkit status table (chaos-toolkit-format.md §8, checked against `chaos run` 1.21.4) and the rollback
 * strategies, as pure decisions over how a run went.
 */
import { describe, expect, it } from 'vitest';
import { chaosToolkitStatus, declaredRollbackIntents, declaredRollbacksPlay } from '../../../shared/ctk/outcome.js';
import { chaosToolkitSpecSchema, type ChaosToolkitSpec } from '../../../shared/model/experiment.js';
import type { RunOutcome } from '../../../shared/lifecycle/contract.js';

const spec = (settings: Record<string, unknown> = {}, runtime?: unknown): ChaosToolkitSpec =>
  chaosToolkitSpecSchema.parse({
    format: 'chaostoolkit',
    name: 't',
    experiment: {
      title: 't',
      description: 'd',
      method: [],
      rollbacks: [
        { type: 'action', name: 'first', provider: { type: 'http', url: 'http://x/1' } },
        { type: 'action', name: 'second', provider: { type: 'http', url: 'http://x/2' } },
      ],
      ...(runtime ? { runtime } : {}),
    },
    settings,
  });

const run = (fields: Partial<RunOutcome> = {}): RunOutcome => ({ mode: 'run', reason: '', ...fields });
const failure = (name: string) => ({ Error: 'States.TaskFailed', Cause: JSON.stringify({ errorType: name, errorMessage: 'x' }) });

describe('the status Chaos Toolkit gives a run', () => {
  const cases: [string, RunOutcome, ReturnType<typeof chaosToolkitStatus>][] = [
    ['all met', run({ steadyState: { met: true }, observation: { deviated: false } }), { status: 'completed', deviated: false }],
    ['baseline missed: completed, not deviated (surprising, as chaos run)', run({ steadyState: { met: false, errored: false } }), { status: 'completed', deviated: false }],
    ['baseline probe errored', run({ steadyState: { met: false, errored: true } }), { status: 'failed', deviated: false }],
    ['after-check missed', run({ steadyState: { met: true }, observation: { deviated: true } }), { status: 'completed', deviated: true }],
    ['after-check probe errored', run({ steadyState: { met: true }, observation: { deviated: true, errored: true } }), { status: 'failed', deviated: true }],
    ['unexpected error in the method', run({ failure: failure('InjectionFailedError') }), { status: 'aborted', deviated: false }],
    ['a guardrail refused a native action', run({ failure: failure('BlastRadiusExceededError') }), { status: 'aborted', deviated: false }],
    ['an emergency stop while running', run({ failure: failure('EmergencyStopActiveError') }), { status: 'interrupted', deviated: false }],
    ['a rollback run (Ctrl-C, abort, recovery)', { mode: 'rollback', reason: 'interrupted' }, { status: 'interrupted', deviated: false }],
  ];
  it.each(cases)('%s', (_, outcome, expected) => {
    expect(chaosToolkitStatus(spec(), outcome)).toEqual(expected);
  });

  it('--fail-fast is failed and not deviated, unless a final check misses: then completed and deviated (as chaos run)', () => {
    const halted = run({ steadyState: { met: true }, injection: { injected: 1, halted: true }, observation: { deviated: false } });
    expect(chaosToolkitStatus(spec({ hypothesis_strategy: 'during-method-only' }), halted)).toEqual({ status: 'failed', deviated: false });
    expect(chaosToolkitStatus(spec({ hypothesis_strategy: 'continuously' }), halted)).toEqual({ status: 'failed', deviated: false });
    expect(chaosToolkitStatus(spec({ hypothesis_strategy: 'continuously' }), { ...halted, observation: { deviated: true } })).toEqual({ status: 'completed', deviated: true });
  });
});

describe('whether the declared rollbacks play', () => {
  const outcomes: Record<string, RunOutcome> = {
    completed: run({ steadyState: { met: true }, observation: { deviated: false } }),
    deviated: run({ steadyState: { met: true }, observation: { deviated: true } }),
    probeError: run({ steadyState: { met: true }, observation: { deviated: true, errored: true } }),
    interrupted: { mode: 'rollback', reason: 'interrupted' },
  };

  it('with no strategy given: whenever a method action started, and only then (ChaosDuck`s safe default)', () => {
    for (const outcome of Object.values(outcomes)) {
      expect(declaredRollbacksPlay(spec(), outcome, true)).toBe(true);
      expect(declaredRollbacksPlay(spec(), outcome, false)).toBe(false);
    }
  });

  it.each([
    ['default', { completed: true, deviated: true, probeError: false, interrupted: false }],
    ['always', { completed: true, deviated: true, probeError: true, interrupted: true }],
    ['never', { completed: false, deviated: false, probeError: false, interrupted: false }],
    ['deviated', { completed: false, deviated: true, probeError: true, interrupted: false }],
  ])('strategy %s, given explicitly, decides as Chaos Toolkit', (strategy, expected) => {
    for (const [name, outcome] of Object.entries(outcomes)) {
      expect(declaredRollbacksPlay(spec({ rollback_strategy: strategy }), outcome, true), name).toBe(expected[name as keyof typeof expected]);
      // Written in the file counts as given explicitly too.
      expect(declaredRollbacksPlay(spec({}, { rollbacks: { strategy } }), outcome, false), name).toBe(expected[name as keyof typeof expected]);
    }
  });

  it('the option wins over the file', () => {
    expect(declaredRollbacksPlay(spec({ rollback_strategy: 'always' }, { rollbacks: { strategy: 'never' } }), outcomes.completed!, true)).toBe(true);
  });

  it('stacks the declared rollbacks so that, popped newest first, they play in declared order', () => {
    const intents = declaredRollbackIntents(spec());
    expect(intents.map((intent) => intent.target.id)).toEqual(['second', 'first']);
    expect(intents.map((intent) => intent.params.index)).toEqual([1, 0]);
  });
});
