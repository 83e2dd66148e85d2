/**
 * OBSERVE, one tick per invocation: the state machine waits between ticks (a free Wait state, not a sleeping Lambda).
 * Each tick runs the `continuous` and `on_chaos` probes; `health_check_failure_threshold` failed ticks in a row halt
 * the experiment. When the observation window (`parameters.duration_seconds`) is over, the last tick checks the
 * steady state again (`eot` and `continuous` probes) and says whether the system deviated.
 *
 * Stop conditions (`cloudwatch_alarm` and `prometheus` probes with `stop_condition: true`) run on every tick whatever
 * their mode; one whose alarm reads ALARM, or whose value is out of tolerance, halts the experiment on that tick,
 * without waiting for the threshold, as AWS FIS does.
 */
import { EmergencyStopActiveError, ExperimentTimeoutError, HealthCheckThresholdError, StopConditionError } from '../../shared/errors.js';
import type { ObserveInput, ObserveState } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { event, probesFor } from '../../shared/lifecycle/events.js';
import { asJson, type JsonValue } from '../../shared/journal/activity.js';
import type { JournalEvent } from '../../shared/model/lifecycle.js';
import { isChaosToolkitSpec, type ChaosToolkitSpec, type FaultSpec } from '../../shared/model/experiment.js';
import { checkHypothesis } from '../../shared/ctk/activities.js';
import { hypothesisChecks, hypothesisStrategy, methodOf } from '../../shared/ctk/method.js';
import { activityEnvironment } from '../../shared/ctk/run.js';
import { allMet, describeStopConditions, firedStopConditions, runProbes } from '../../shared/probes/index.js';

export async function observeTick(input: ObserveInput, deps: LifecycleDeps, signal: AbortSignal): Promise<ObserveState> {
  const { spec } = input.experiment;
  return isChaosToolkitSpec(spec) ? observeAfterMethod(input, spec, deps, signal) : observeFault(input, spec, deps, signal);
}

/**
 * A Chaos Toolkit experiment has no observation window: its method has run, and the hypothesis is checked once more
 * after it (strategies `default`, `after-method-only`, `continuously`). A miss means it deviated; a probe that
 * failed to run is an error as well.
 */
async function observeAfterMethod({ experiment, observe }: ObserveInput, spec: ChaosToolkitSpec, deps: LifecycleDeps, signal: AbortSignal): Promise<ObserveState> {
  const { id } = experiment;
  const start = deps.clock();
  await deps.store.updateExperiment(id, { phase: 'OBSERVE' });
  const stop = await deps.store.getEmergencyStop();
  if (stop.active) throw new EmergencyStopActiveError(`emergency stop is active since ${stop.since}`);
  const { hypothesis } = methodOf(spec.experiment);
  const done = { ...observe, done: true, waitSeconds: 0 };
  if (!hypothesis || !hypothesisChecks(hypothesisStrategy(spec)).after) {
    await emit(deps, [event(id, 'phase.completed', 'OBSERVE', { deviated: false, skipped: true }, deps.clock())]);
    return { ...done, deviated: false, errored: false };
  }
  const result = await checkHypothesis(hypothesis.probes, activityEnvironment(spec, deps, signal, experiment.deadline), spec.settings.dry);
  const deviated = !result.steady_state_met;
  const end = deps.clock();
  await emit(
    deps,
    [
      event(id, 'hypothesis.checked', 'OBSERVE', { when: 'after', ...asJson(result) }, end),
      event(id, 'phase.completed', 'OBSERVE', { deviated, errored: result.errored }, end),
    ],
    {
      experimentId: id,
      result: {
        phase: 'OBSERVE',
        status: 'succeeded',
        start: new Date(start).toISOString(),
        end: new Date(end).toISOString(),
        detail: asJson({ after: { met: result.steady_state_met, probes: result.probes }, deviated, errored: result.errored }),
      },
    },
    signal,
  );
  return { ...done, deviated, errored: result.errored };
}

async function observeFault({ experiment, observe }: ObserveInput, spec: FaultSpec, deps: LifecycleDeps, signal: AbortSignal): Promise<ObserveState> {
  const { id } = experiment;
  const now = deps.clock();
  const startedAt = observe.startedAt ?? now;
  const durationMs = spec.parameters.duration_seconds * 1000;
  const endsAt = observe.endsAt ?? Math.min(now + durationMs, experiment.deadline);
  const phase = (status: 'succeeded' | 'failed', detail: Record<string, unknown>) => ({
    experimentId: id,
    result: { phase: 'OBSERVE' as const, status, start: new Date(startedAt).toISOString(), end: new Date(deps.clock()).toISOString(), detail: asJson(detail) },
  });

  // The record shows the phase the run is in (the API lists it); OBSERVE announces itself on its first tick.
  if (observe.tick === 0) await deps.store.updateExperiment(id, { phase: 'OBSERVE' });
  const stop = await deps.store.getEmergencyStop();
  if (stop.active) throw new EmergencyStopActiveError(`emergency stop is active since ${stop.since}`);
  // The window was cut short at the deadline: the phases before it used up the time the observation needed.
  if (now >= endsAt && startedAt + durationMs > endsAt) {
    await emit(deps, [event(id, 'phase.failed', 'OBSERVE', { timeout: true }, now)], phase('failed', { ...observe, timeout: true }), signal);
    throw new ExperimentTimeoutError(`experiment reached its ${spec.safety.timeout_seconds}s timeout before the observation window ended`);
  }

  if (now >= endsAt) {
    // A last look at the targets' recovery as the window closes, beside the end-of-window probes.
    const watched = await observeFaults(id, spec, observe.tick, deps, signal);
    const records = await runProbes(probesFor(spec, 'after'), { runtime: deps.runtime, signal, aws: deps.aws, kube: deps.kube });
    const met = allMet(records);
    const deviated = !met || observe.failedTicks > 0;
    const end = deps.clock();
    await emit(
      deps,
      [
        ...watched,
        ...records.map((record) => event(id, 'probe.result', 'OBSERVE', { when: 'after', record: asJson(record) }, end)),
        event(id, 'phase.completed', 'OBSERVE', { deviated, ticks: observe.tick }, end),
      ],
      phase('succeeded', { ticks: observe.tick, failedTicks: observe.failedTicks, after: { met, probes: records }, deviated }),
    );
    return { ...observe, startedAt, endsAt, done: true, deviated, waitSeconds: 0 };
  }

  const during = probesFor(spec, 'during');
  const ended = await endFaultsEarly(experiment.id, spec, deps, signal);
  const watched = await observeFaults(experiment.id, spec, observe.tick + 1, deps, signal);
  const records = await runProbes(during, { runtime: deps.runtime, signal, aws: deps.aws, kube: deps.kube });
  const ok = allMet(records);
  const consecutiveFailures = ok ? 0 : observe.consecutiveFailures + 1;
  const failedTicks = observe.failedTicks + (ok ? 0 : 1);
  const end = deps.clock();
  const tick = observe.tick + 1;
  const events = [...ended, ...watched, ...records.map((record) => event(id, 'probe.result', 'OBSERVE', { when: 'during', tick, record: asJson(record) }, end))];
  const fired = firedStopConditions(during, records);
  if (fired.length > 0) {
    const stopCondition = asJson(fired);
    events.push(event(id, 'phase.failed', 'OBSERVE', { halted: true, consecutiveFailures, stop_condition: stopCondition }, end));
    await emit(deps, events, phase('failed', { ticks: tick, failedTicks, halted: true, deviated: true, stop_condition: stopCondition }), signal);
    throw new StopConditionError(`stop condition fired: ${describeStopConditions(fired)}; halting`);
  }
  const threshold = spec.safety.health_check_failure_threshold;
  if (consecutiveFailures >= threshold) {
    events.push(event(id, 'phase.failed', 'OBSERVE', { halted: true, consecutiveFailures }, end));
    await emit(deps, events, phase('failed', { ticks: tick, failedTicks, halted: true, deviated: true }), signal);
    throw new HealthCheckThresholdError(`${consecutiveFailures} health check(s) failed in a row (threshold ${threshold}); halting`);
  }
  await emit(deps, events, undefined, signal);
  // Wait a full interval, or just what is left of the window, whichever is shorter.
  const waitSeconds = Math.max(0, Math.min(spec.safety.health_check_interval, Math.ceil((endsAt - end) / 1000)));
  return { tick, consecutiveFailures, failedTicks, startedAt, endsAt, done: false, deviated: failedTicks > 0, errored: false, waitSeconds };
}

/**
 * Faults whose driver watches the target's recovery (pod_delete: the owner's ready replicas and the time to
 * recovery) are looked at on every tick. A failed look is recorded, never fatal: probes decide the hypothesis.
 */
async function observeFaults(id: string, spec: FaultSpec, tick: number, deps: LifecycleDeps, signal: AbortSignal): Promise<JournalEvent[]> {
  const driver = deps.drivers.get(spec.target.provider);
  if (!driver?.observe) return [];
  const events: JournalEvent[] = [];
  for (const entry of await deps.store.listRollback(id)) {
    if (entry.state !== 'pending' || entry.provider !== driver.provider) continue;
    let output: JsonValue | undefined;
    try {
      output = await driver.observe(entry, { experimentId: id, rollbackSeq: entry.seq, signal });
    } catch (error) {
      signal.throwIfAborted();
      output = { error: error instanceof Error ? error.message : String(error) };
    }
    if (output !== undefined) events.push(event(id, 'fault.observed', 'OBSERVE', { target: entry.target.id, rollbackSeq: entry.seq, tick, output }, deps.clock()));
  }
  return events;
}

/**
 * Faults that end on their own schedule before the rollback (ec2_stop's `start_after_seconds`, as FIS's
 * `startInstancesAfterDuration`) are ended here when their time has come. Only experiments that asked for it pay
 * for reading the stack.
 */
async function endFaultsEarly(id: string, spec: FaultSpec, deps: LifecycleDeps, signal: AbortSignal): Promise<JournalEvent[]> {
  if ((spec.parameters as { start_after_seconds?: number }).start_after_seconds === undefined) return [];
  const events: JournalEvent[] = [];
  for (const entry of await deps.store.listRollback(id)) {
    const driver = deps.drivers.get(entry.provider);
    if (entry.state !== 'pending' || !driver?.endEarly) continue;
    const output = await driver.endEarly(entry, { experimentId: id, rollbackSeq: entry.seq, signal });
    if (output !== undefined) events.push(event(id, 'fault.ended', 'OBSERVE', { target: entry.target.id, rollbackSeq: entry.seq, output }, deps.clock()));
  }
  return events;
}
