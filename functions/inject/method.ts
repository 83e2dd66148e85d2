/**
 * INJECT for a Chaos Toolkit experiment: the method, activity by activity, as chaoslib runs it, over as many
 * invocations as it has pauses. Each pause is handed back to the state machine as a Wait state (in steps of
 * `hypothesis_frequency` when the hypothesis is checked while the method runs), so no Lambda sleeps.
 *
 * Before the method's first action, the declared rollbacks are written to the rollback stack: whatever happens
 * next (an interruption, an emergency stop, a crash), the rollback run finds them. A native action (chaosk8s,
 * chaosaws) is applied as the ChaosDuck fault it is, its own rollback written ahead of it.
 *
 * As in Chaos Toolkit, an activity that fails does not stop the method; a guardrail that refuses a fault, a stop and
 * the timeout do. Background activities run beside the ones that follow them, and each invocation waits for those
 * it started before it returns (so a pause after a background activity begins once the activity has ended).
 */
import { ExperimentTimeoutError, InjectionFailedError } from '../../shared/errors.js';
import { checkHypothesis, runActivity, skippedActivity, type ActivityEnvironment } from '../../shared/ctk/activities.js';
import { dryRuns, hypothesisChecks, hypothesisStrategy, methodOf, pauseSeconds, type Activity } from '../../shared/ctk/method.js';
import { inFileTerms, nativeAction, nativeFaultSpec } from '../../shared/ctk/native.js';
import { activityEnvironment } from '../../shared/ctk/run.js';
import { declaredRollbackIntents, declaredRollbacksPlay } from '../../shared/ctk/outcome.js';
import { asJson, type ActivityRecord, type JsonObject } from '../../shared/journal/activity.js';
import type { InjectInput, InjectState } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { event } from '../../shared/lifecycle/events.js';
import type { ChaosToolkitSpec } from '../../shared/model/experiment.js';
import type { JournalEvent } from '../../shared/model/lifecycle.js';
import { applyFault, RefusedAtPlan, refusedAtInjection, stoppedUnder, type InjectOutput } from './core.js';

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

export async function runMethod({ experiment, inject: state }: InjectInput, spec: ChaosToolkitSpec, deps: LifecycleDeps, signal: AbortSignal): Promise<InjectOutput> {
  const { id, deadline } = experiment;
  const start = deps.clock();
  const { hypothesis, method } = methodOf(spec.experiment);
  const env = activityEnvironment(spec, deps, signal, deadline);
  const dry = spec.settings.dry;
  const duringProbes = hypothesis && hypothesisChecks(hypothesisStrategy(spec)).during ? hypothesis.probes : undefined;
  const frequencyMs = spec.settings.hypothesis_frequency * 1000;
  const s: InjectState = { ...state };
  const events: JournalEvent[] = [];
  const background: Promise<void>[] = [];
  // A background activity's own failure is its record; anything else it throws (a stop, a refusal) ends the method.
  let backgroundError: unknown;

  const flush = async (result?: Parameters<typeof emit>[2]) => {
    await Promise.all(background.splice(0));
    if (backgroundError !== undefined) throw backgroundError;
    await emit(deps, events.splice(0), result, signal);
  };
  const fail = async (error: unknown): Promise<never> => {
    await Promise.allSettled(background.splice(0));
    events.push(event(id, 'phase.failed', 'INJECT', { activities: s.next, error: error instanceof Error ? error.name : 'Error' }, deps.clock()));
    await emit(deps, events.splice(0), undefined, signal);
    throw error;
  };
  /** One check of the hypothesis while the method runs, when one is due; false when it did not hold. */
  const duringCheck = async (): Promise<boolean> => {
    const now = deps.clock();
    if (!duringProbes || (s.lastCheck !== undefined && now - s.lastCheck < frequencyMs)) return true;
    const result = await checkHypothesis(duringProbes, env, dry);
    s.lastCheck = deps.clock();
    s.iterations += 1;
    events.push(event(id, 'hypothesis.checked', 'INJECT', { when: 'during', iteration: s.iterations, ...asJson(result) }, s.lastCheck));
    return result.steady_state_met;
  };
  /**
   * While a (foreground) activity runs, the hypothesis is checked every `hypothesis_frequency`, as Chaos Toolkit's
   * background loop checks it; stopping the watch says whether a check failed.
   */
  const watchDuring = (): (() => Promise<boolean>) => {
    if (!duringProbes) return async () => false;
    let stopped = false;
    let failed = false;
    let wake = () => undefined as void;
    const loop = (async () => {
      while (!stopped) {
        const wait = Math.max(0, (s.lastCheck ?? 0) + Math.max(frequencyMs, 100) - deps.clock());
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (stopped) break;
        if (!(await duringCheck())) failed = true;
        // Chaos Toolkit's loop ends at the first failure under --fail-fast.
        if (failed && spec.settings.fail_fast) break;
      }
    })();
    return async () => {
      stopped = true;
      wake();
      await loop;
      return failed;
    };
  };

  if (s.next === 0 && !s.pausedBefore && s.pauseLeft === 0 && s.iterations === 0 && !s.declaredPushed) {
    await deps.store.updateExperiment(id, { phase: 'INJECT' }, { unlessRollingBack: true });
  }
  try {
    for (;;) {
      if (s.pauseLeft > 0) {
        // A pause, waited by the state machine; in steps when the hypothesis is checked between them.
        if (!(await duringCheck()) && spec.settings.fail_fast) {
          s.halted = true;
          break;
        }
        const step = duringProbes ? Math.min(s.pauseLeft, Math.max(1, frequencyMs / 1000)) : s.pauseLeft;
        const waitSeconds = Math.max(1, Math.ceil(step));
        s.pauseLeft = Math.max(0, s.pauseLeft - waitSeconds);
        await flush();
        return { ...s, done: false, waitSeconds };
      }
      if (s.next >= method.length) break;
      const activity = method[s.next] as Activity;
      const where = `method[${s.next}]`;
      if (deps.clock() > deadline) throw new ExperimentTimeoutError(`experiment reached its ${spec.safety.timeout_seconds}s timeout before activity '${activity.name}'`);
      const stopped = await stoppedUnder(id, deps, `before activity '${activity.name}'`);
      if (stopped) throw stopped;
      const pauses = isObject(activity.pauses) && dry === undefined ? activity.pauses : {};
      const before = pauseSeconds(pauses.before, env.values);
      if (before > 0 && !s.pausedBefore) {
        s.pausedBefore = true;
        s.pauseLeft = before;
        continue;
      }
      if (!(await duringCheck()) && spec.settings.fail_fast) {
        s.halted = true;
        break;
      }
      if (activity.type === 'action' && !s.declaredPushed) {
        await pushDeclaredRollbacks(id, spec, deps);
        s.declaredPushed = true;
      }
      const index = s.next;
      const run = async () => {
        const record = dryRuns(activity, dry) ? skippedActivity(activity, deps.clock()) : await perform(activity, where, id, spec, env, deps, signal, events);
        events.push(event(id, 'activity.completed', 'INJECT', { index, record: asJson(record) }, deps.clock()));
        if (activity.type === 'action' && !nativeAction(activity) && !dryRuns(activity, dry)) await stoppedWhileActing(activity, id, spec, env, deps, events);
      };
      if (activity.background === true) {
        background.push(
          run().catch((error: unknown) => {
            backgroundError ??= error;
          }),
        );
      } else {
        const stopWatching = watchDuring();
        try {
          await run();
        } finally {
          // As Chaos Toolkit's --fail-fast: the method stops after the activity during which the hypothesis failed.
          if ((await stopWatching()) && spec.settings.fail_fast) s.halted = true;
        }
      }
      if (activity.type === 'action') s.injected += 1;
      s.next += 1;
      s.pausedBefore = false;
      if (s.halted) break;
      s.pauseLeft = pauseSeconds(pauses.after, env.values);
    }
    await Promise.all(background.splice(0));
    if (backgroundError !== undefined) throw backgroundError;
  } catch (error) {
    return fail(error);
  }
  events.push(event(id, 'phase.completed', 'INJECT', { activities: s.next, halted: s.halted }, deps.clock()));
  await flush({
    experimentId: id,
    result: {
      phase: 'INJECT',
      status: s.halted ? 'failed' : 'succeeded',
      start: new Date(start).toISOString(),
      end: new Date(deps.clock()).toISOString(),
      detail: { activities: s.next, of: method.length, halted: s.halted, ...(s.halted ? { error: 'the hypothesis did not hold while the method ran (--fail-fast)' } : {}) },
    },
  });
  return { ...s, done: true, waitSeconds: 0 };
}

/**
 * An action ChaosDuck cannot undo itself (process, http) may land after the run was stopped, and after its rollback
 * run played the declared rollbacks: then they are played again, so what the action changed is undone all the same.
 * (A fault is re-reverted the same way in `applyFault`.) Played twice, they must bear it; chaos engineering's
 * declared rollbacks (restart, scale back, restore) usually do.
 */
async function stoppedWhileActing(activity: Activity, id: string, spec: ChaosToolkitSpec, env: ActivityEnvironment, deps: LifecycleDeps, events: JournalEvent[]): Promise<void> {
  const stopped = await stoppedUnder(id, deps, `while activity '${activity.name}' ran`);
  if (!stopped) return;
  if (declaredRollbacksPlay(spec, { mode: 'rollback', reason: 'interrupted' }, true)) {
    for (const rollback of methodOf(spec.experiment).rollbacks) {
      const record = await runActivity(rollback, env);
      events.push(event(id, 'rollback.step', 'ROLLBACK', { action: 'declared_rollback', target: rollback.name, state: record.status === 'succeeded' ? 'done' : 'failed', record: asJson(record), again: true }, deps.clock()));
    }
  }
  throw stopped;
}

async function pushDeclaredRollbacks(id: string, spec: ChaosToolkitSpec, deps: LifecycleDeps): Promise<void> {
  const intents = declaredRollbackIntents(spec);
  if (intents.length === 0) return;
  const first = await deps.store.beginInjection(id, [], intents.length);
  for (const [i, intent] of intents.entries()) await deps.store.pushRollback(id, first + i, intent);
}

/**
 * Runs one activity: a native action as its ChaosDuck fault (its rollback written ahead), anything else as chaoslib
 * runs it. A fault that failed on a target is a failed activity, as a raising python action is; a refusal or a stop
 * ends the method.
 */
async function perform(
  activity: Activity,
  where: string,
  id: string,
  spec: ChaosToolkitSpec,
  env: ActivityEnvironment,
  deps: LifecycleDeps,
  signal: AbortSignal,
  events: JournalEvent[],
): Promise<ActivityRecord> {
  if (!nativeAction(activity)) return runActivity(activity, env);
  const started = deps.clock();
  const fault = nativeFaultSpec(activity, spec, env.values, where);
  const held = new Set((await deps.store.getExperiment(id)).leases ?? []);
  let applied;
  try {
    applied = await applyFault(id, fault, env.deadline, deps, signal, held);
  } catch (error) {
    if (!(error instanceof RefusedAtPlan)) throw error;
    const refusal = inFileTerms(error.cause, where, activity.name);
    await refusedAtInjection(id, started, refusal, deps);
    throw refusal;
  }
  events.push(...applied.events);
  if (applied.halt && !(applied.halt instanceof InjectionFailedError)) throw applied.halt;
  const ended = deps.clock();
  const output = applied.actions.map((record) => ({ target: String(record.activity.name), status: record.status, output: record.output ?? null }));
  return {
    activity: activity as unknown as ActivityRecord['activity'],
    status: applied.halt ? 'failed' : 'succeeded',
    start: new Date(started).toISOString(),
    end: new Date(ended).toISOString(),
    duration: (ended - started) / 1000,
    output: asJson(output),
    ...(applied.halt ? { exception: [`${applied.halt.name}: ${applied.halt.message}`] } : {}),
  };
}
