/**
 * How Finish names the end of a run: `rootError` unwraps what Step Functions hands the Catch (a failed child execution
 * wrapping a Lambda error), and `decideStatus` turns the orchestrator state and the rollback stack into the final
 * status, reason and deviation.
 */
import { describe, expect, it } from 'vitest';
import { decideStatus, rootError } from '../../../functions/finish/core.js';
import type { CaughtError, FinishInput } from '../../../shared/lifecycle/contract.js';
import type { RollbackEntry, RollbackState } from '../../../shared/model/lifecycle.js';

// ---- helpers ---------------------------------------------------------------------------------------------------------

/** What Lambda puts in `Cause` when a function throws. */
const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler (/var/task/index.mjs:1:1)'] });

/** What Step Functions catches when a `startExecution.sync:2` child execution fails on a Lambda error. */
function childFailed(errorType: string, errorMessage: string): CaughtError {
  return {
    Error: 'States.TaskFailed',
    Cause: JSON.stringify({
      ExecutionArn: 'arn:aws:states:eu-west-1:123456789012:execution:chaosduck-inject:3f1c',
      StateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:chaosduck-inject',
      Name: '3f1c',
      Status: 'FAILED',
      StartDate: 1_763_000_000_000,
      StopDate: 1_763_000_001_000,
      Input: '{"experiment":{}}',
      Error: errorType,
      Cause: lambdaCause(errorType, errorMessage),
    }),
  };
}

function entry(seq: number, state: RollbackState): RollbackEntry {
  return {
    seq,
    state,
    provider: 'memory',
    action: 'clear_fault',
    target: { provider: 'memory', id: `replica-${seq}`, labels: {}, details: {} },
    params: {},
    snapshot: { faulted: false },
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

type Outcome = Omit<FinishInput, 'experiment'>;
const run = (fields: Partial<Outcome> = {}): Outcome => ({ mode: 'run', reason: '', ...fields });
const rolledBack = [entry(2, 'done'), entry(1, 'done')];

// ---- rootError -------------------------------------------------------------------------------------------------------

describe('rootError', () => {
  it('keeps an error whose cause is plain text', () => {
    expect(rootError({ Error: 'States.Timeout', Cause: 'Task timed out after 180.00 seconds' })).toEqual({
      name: 'States.Timeout',
      message: 'Task timed out after 180.00 seconds',
    });
  });

  it('answers an empty message when there is no cause', () => {
    expect(rootError({ Error: 'States.Runtime' })).toEqual({ name: 'States.Runtime', message: '' });
  });

  it('unwraps a Lambda error', () => {
    expect(rootError({ Error: 'InjectionFailedError', Cause: lambdaCause('InjectionFailedError', 'pod_delete replica-2 failed') })).toEqual({
      name: 'InjectionFailedError',
      message: 'pod_delete replica-2 failed',
    });
  });

  it('unwraps a failed child execution down to the Lambda error inside it', () => {
    expect(rootError(childFailed('HealthCheckThresholdError', '2 health check(s) failed in a row'))).toEqual({
      name: 'HealthCheckThresholdError',
      message: '2 health check(s) failed in a row',
    });
  });

  it('unwraps a failed child execution as the local runtime reports it (plain-text cause)', () => {
    const caught = {
      Error: 'States.TaskFailed',
      Cause: JSON.stringify({ ExecutionArn: 'arn:…:execution:chaosduck-inject:1', Status: 'FAILED', Error: 'TargetLeasedError', Cause: 'target memory:replica-1 is held' }),
    };
    expect(rootError(caught)).toEqual({ name: 'TargetLeasedError', message: 'target memory:replica-1 is held' });
  });

  it('stops at JSON that names no error', () => {
    const cause = JSON.stringify({ ExecutionArn: 'arn:…', Status: 'TIMED_OUT' });
    expect(rootError({ Error: 'States.TaskFailed', Cause: cause })).toEqual({ name: 'States.TaskFailed', message: cause });
  });

  it.each(['42', 'null', '"quoted"', '[1,2]', '{not json'])('leaves a cause of %s as it is', (cause) => {
    expect(rootError({ Error: 'States.TaskFailed', Cause: cause })).toEqual({ name: 'States.TaskFailed', message: cause });
  });

  it('does not mistake a JSON-looking error message for another layer', () => {
    expect(rootError({ Error: 'ValidationError', Cause: lambdaCause('ValidationError', '{"field":"experiment.id"}') })).toEqual({
      name: 'ValidationError',
      message: '{"field":"experiment.id"}',
    });
  });

  it('renders a cause that is not text as JSON', () => {
    const caught = { Error: 'States.TaskFailed', Cause: JSON.stringify({ Error: 'Odd', Cause: { detail: 1 } }) };
    expect(rootError(caught)).toEqual({ name: 'Odd', message: '{"detail":1}' });
  });

  it('gives up on absurdly deep nesting instead of looping', () => {
    let cause = 'bottom';
    for (let depth = 9; depth >= 1; depth--) cause = JSON.stringify({ Error: `Level${depth}`, Cause: cause });
    const { name } = rootError({ Error: 'States.TaskFailed', Cause: cause });
    expect(name).toMatch(/^Level[1-9]$/);
    expect(name).not.toBe('Level9');
  });
});

// ---- decideStatus ----------------------------------------------------------------------------------------------------

describe('decideStatus', () => {
  describe('a run that went to the end', () => {
    it('completes when the hypothesis held', () => {
      const outcome = run({ steadyState: { met: true }, observation: { deviated: false }, rollback: { failed: [] } });
      expect(decideStatus(outcome, rolledBack)).toEqual({ status: 'completed', reason: 'hypothesis_held', deviated: false });
    });

    it('completes, deviated, when the system drifted but stayed under the threshold', () => {
      const outcome = run({ steadyState: { met: true }, observation: { deviated: true }, rollback: { failed: [] } });
      expect(decideStatus(outcome, rolledBack)).toEqual({ status: 'completed', reason: 'deviated', deviated: true });
    });
  });

  describe('a run that never injected', () => {
    it('is aborted when the steady state did not hold', () => {
      expect(decideStatus(run({ steadyState: { met: false } }), [])).toEqual({ status: 'aborted', reason: 'steady_state_not_met', deviated: false });
    });

    it.each(['BlastRadiusExceededError', 'ProductionGuardError', 'TargetLeasedError', 'ExperimentTimeoutError', 'NoTargetsError'])(
      'is aborted, not rolled back, when INJECT refused with %s',
      (name) => {
        const outcome = run({ steadyState: { met: true }, failure: childFailed(name, 'refused'), rollback: { failed: [] } });
        expect(decideStatus(outcome, [])).toEqual({ status: 'aborted', reason: name, deviated: false });
      },
    );

    it('is emergency_stopped when the emergency stop refused it', () => {
      const outcome = run({ steadyState: { met: true }, failure: childFailed('EmergencyStopActiveError', 'stop'), rollback: { failed: [] } });
      expect(decideStatus(outcome, [])).toEqual({ status: 'emergency_stopped', reason: 'emergency_stop', deviated: false });
    });
  });

  describe('a run that failed after injecting', () => {
    it('is rolled back, naming the root error', () => {
      const outcome = run({ steadyState: { met: true }, failure: childFailed('InjectionFailedError', 'boom'), rollback: { failed: [] } });
      expect(decideStatus(outcome, rolledBack)).toEqual({ status: 'rolled_back', reason: 'InjectionFailedError', deviated: false });
    });

    it('counts a halt on the health-check threshold as deviated', () => {
      const outcome = run({ steadyState: { met: true }, failure: childFailed('HealthCheckThresholdError', '3 in a row'), rollback: { failed: [] } });
      expect(decideStatus(outcome, rolledBack)).toEqual({ status: 'rolled_back', reason: 'HealthCheckThresholdError', deviated: true });
    });

    it('does not count a timeout as deviated', () => {
      const outcome = run({ steadyState: { met: true }, failure: childFailed('ExperimentTimeoutError', 'late'), rollback: { failed: [] } });
      expect(decideStatus(outcome, rolledBack)).toMatchObject({ status: 'rolled_back', deviated: false });
    });

    it('is emergency_stopped when the stop halted it mid-run', () => {
      const outcome = run({ steadyState: { met: true }, failure: childFailed('EmergencyStopActiveError', 'stop'), rollback: { failed: [] } });
      expect(decideStatus(outcome, rolledBack)).toEqual({ status: 'emergency_stopped', reason: 'emergency_stop', deviated: false });
    });
  });

  describe('an incomplete rollback always fails the run', () => {
    it('fails when a step failed, though the hypothesis held', () => {
      const outcome = run({ steadyState: { met: true }, observation: { deviated: false }, rollback: { failed: [2] } });
      expect(decideStatus(outcome, [entry(2, 'failed'), entry(1, 'done')])).toEqual({ status: 'failed', reason: 'rollback_step_failed', deviated: false });
    });

    it('fails when a step never ran', () => {
      const outcome = run({ steadyState: { met: true }, observation: { deviated: false } });
      expect(decideStatus(outcome, [entry(2, 'done'), entry(1, 'pending')])).toMatchObject({ status: 'failed', reason: 'rollback_step_failed' });
    });

    it('names both errors when the run failed and then the rollback execution failed', () => {
      const outcome = run({
        steadyState: { met: true },
        failure: childFailed('InjectionFailedError', 'boom'),
        rollbackFailure: { Error: 'States.Timeout', Cause: 'Task timed out' },
      });
      expect(decideStatus(outcome, [entry(1, 'pending')])).toEqual({ status: 'failed', reason: 'InjectionFailedError; States.Timeout', deviated: false });
    });

    it('fails on a failed rollback execution even when every stored step is done', () => {
      const outcome = run({ steadyState: { met: true }, observation: { deviated: false }, rollbackFailure: childFailed('ProviderUnavailableError', 'gone') });
      expect(decideStatus(outcome, rolledBack)).toEqual({ status: 'failed', reason: 'ProviderUnavailableError', deviated: false });
    });

    it('fails rather than report an emergency stop whose rollback did not finish', () => {
      const outcome = run({ steadyState: { met: true }, failure: childFailed('EmergencyStopActiveError', 'stop'), rollback: { failed: [1] } });
      expect(decideStatus(outcome, [entry(1, 'failed')])).toMatchObject({ status: 'failed', reason: 'EmergencyStopActiveError; rollback_step_failed' });
    });

    it('fails a rollback-mode run whose step failed', () => {
      expect(decideStatus({ mode: 'rollback', reason: 'user_abort', rollback: { failed: [1] } }, [entry(1, 'failed')])).toMatchObject({
        status: 'failed',
        reason: 'rollback_step_failed',
      });
    });
  });

  describe('a rollback-mode run (abort, emergency stop, recovery sweep)', () => {
    it.each([
      ['user_abort', 'rolled_back'],
      ['recovered_after_crash', 'rolled_back'],
      ['emergency_stop', 'emergency_stopped'],
    ] as const)('ends a %s that reverted faults as %s', (reason, status) => {
      expect(decideStatus({ mode: 'rollback', reason, rollback: { failed: [] } }, rolledBack)).toEqual({ status, reason, deviated: false });
    });

    // KNOWN BUG (reported, see test/statemachines/lifecycle.test.ts): with nothing on the stack no fault was ever
    // applied, which a normal run calls `aborted`; rollback mode answers `rolled_back` regardless.
    it('calls off a user abort that came before any fault', () => {
      expect(decideStatus({ mode: 'rollback', reason: 'user_abort', rollback: { failed: [] } }, [])).toMatchObject({ status: 'aborted', reason: 'user_abort' });
    });
  });
});
