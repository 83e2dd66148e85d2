/**
 * A Chaos Toolkit experiment read as the lifecycle runs it: the hypothesis's probes, the method's activities and the
 * declared rollbacks, each `{ref}` replaced by the activity it names; which checks of the hypothesis a strategy asks
 * for; and what ChaosDuck reads from the file for itself (its `chaosduck` extension). Pure: no I/O.
 */
import { ValidationError } from '../errors.js';
import type { JsonObject, JsonValue } from '../journal/activity.js';
import type { ChaosToolkitSpec, DryMode, HypothesisStrategy, RollbackStrategy } from '../model/experiment.js';

/** An activity as written in the file (`type`, `name`, `provider`, `tolerance`, `pauses`, `background`…). */
export type Activity = JsonObject & { type: 'probe' | 'action'; name: string; provider: JsonObject };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface Method {
  hypothesis: { title: string; probes: Activity[] } | undefined;
  method: Activity[];
  rollbacks: Activity[];
}

/**
 * The experiment's activities, references resolved. A `{ref}` names a method or hypothesis activity; with two of the
 * same name the last one wins, as in chaoslib's cache.
 */
export function methodOf(experiment: JsonObject): Method {
  const hypothesis = isObject(experiment['steady-state-hypothesis']) ? experiment['steady-state-hypothesis'] : undefined;
  const list = (value: JsonValue | undefined): JsonObject[] => (Array.isArray(value) ? value.filter(isObject) : []);
  const probes = list(hypothesis?.probes);
  const named = new Map<string, Activity>();
  for (const activity of [...list(experiment.method), ...probes]) {
    if (typeof activity.name === 'string' && !('ref' in activity)) named.set(activity.name, activity as Activity);
  }
  const resolve = (activities: JsonObject[]): Activity[] =>
    activities.map((activity) => {
      if (!('ref' in activity)) return activity as Activity;
      const found = named.get(String(activity.ref));
      // Validation refuses a reference to nothing; one that slips through is a plain error at run time.
      if (!found) throw new ValidationError([{ field: 'ref', message: `referenced activity '${String(activity.ref)}' could not be found in the experiment` }], 'Chaos Toolkit experiment');
      return found;
    });
  return {
    hypothesis: hypothesis ? { title: String(hypothesis.title ?? ''), probes: resolve(probes) } : undefined,
    method: resolve(list(experiment.method)),
    rollbacks: resolve(list(experiment.rollbacks)),
  };
}

/** The hypothesis strategy in force: the run's setting, else the file's `runtime.hypothesis.strategy`, else `default`. */
export function hypothesisStrategy(spec: ChaosToolkitSpec): HypothesisStrategy {
  const written = runtimeSetting(spec.experiment, 'hypothesis');
  const strategy = spec.settings.hypothesis_strategy ?? (written === 'continously' ? 'continuously' : written) ?? 'default';
  return strategy as HypothesisStrategy;
}

/**
 * The rollback strategy given explicitly (the run's setting, else the file's `runtime.rollbacks.strategy`);
 * undefined when none was, and ChaosDuck's own default applies.
 */
export function explicitRollbackStrategy(spec: ChaosToolkitSpec): RollbackStrategy | undefined {
  return spec.settings.rollback_strategy ?? (runtimeSetting(spec.experiment, 'rollbacks') as RollbackStrategy | undefined);
}

function runtimeSetting(experiment: JsonObject, key: 'hypothesis' | 'rollbacks'): string | undefined {
  const runtime = experiment.runtime;
  const section = isObject(runtime) ? runtime[key] : undefined;
  const strategy = isObject(section) ? section.strategy : undefined;
  return typeof strategy === 'string' ? strategy : undefined;
}

/** Whether `--dry` leaves this activity out: a dry run records it as run, with nothing executed. */
export function dryRuns(activity: Activity, dry: DryMode | undefined): boolean {
  return dry === 'activities' || (dry === 'actions' && activity.type === 'action') || (dry === 'probes' && activity.type === 'probe');
}

/** When the hypothesis is checked under a strategy: before the method, while it runs, after it. */
export function hypothesisChecks(strategy: HypothesisStrategy): { before: boolean; during: boolean; after: boolean } {
  switch (strategy) {
    case 'default':
      return { before: true, during: false, after: true };
    case 'before-method-only':
      return { before: true, during: false, after: false };
    case 'after-method-only':
      return { before: false, during: false, after: true };
    case 'during-method-only':
      return { before: false, during: true, after: false };
    case 'continuously':
      return { before: true, during: true, after: true };
  }
}

/** The `chaosduck` extension, where a Chaos Toolkit file keeps ChaosDuck's own settings (`safety`). */
export function chaosDuckExtension(experiment: JsonObject): JsonObject | undefined {
  const extensions = Array.isArray(experiment.extensions) ? experiment.extensions : [];
  return extensions.find((extension): extension is JsonObject => isObject(extension) && extension.name === 'chaosduck');
}

/** A pause's seconds: a number, or `${name}` that the values make a number; anything else is no pause. */
export function pauseSeconds(pause: JsonValue | undefined, values: ReadonlyMap<string, JsonValue>): number {
  const value = typeof pause === 'string' ? values.get(/^\$\{([^}]+)\}$/.exec(pause)?.[1] ?? '') : pause;
  const seconds = typeof value === 'string' ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}

/** The seconds all of the method's pauses add up to, which the default timeout leaves room for. */
export function totalPauseSeconds(method: Method, values: ReadonlyMap<string, JsonValue>): number {
  return method.method.reduce((sum, activity) => {
    const pauses = isObject(activity.pauses) ? activity.pauses : {};
    return sum + pauseSeconds(pauses.before, values) + pauseSeconds(pauses.after, values);
  }, 0);
}
