/**
 * What the lifecycle needs to run a Chaos Toolkit experiment's activities: the environment they run in, and the
 * player of declared rollbacks (the stack's `chaostoolkit` entries).
 */
import type { FaultDriver } from '../faults/driver.js';
import type { JsonObject } from '../journal/activity.js';
import type { LifecycleDeps } from '../lifecycle/deps.js';
import type { ChaosToolkitSpec } from '../model/experiment.js';
import { ActivityFailed, runActivity, type ActivityEnvironment } from './activities.js';
import { resolveConfiguration, resolveSecrets, substitutionValues } from './configuration.js';
import { dryRuns, methodOf, type Activity } from './method.js';
import { DECLARED_ROLLBACK } from './outcome.js';

/**
 * Configuration and secrets are resolved where the activity runs (this process's environment, as `chaos run` reads
 * its own), each time, so no secret value is ever stored with the experiment.
 */
export function activityEnvironment(
  spec: ChaosToolkitSpec,
  deps: Pick<LifecycleDeps, 'runtime' | 'aws' | 'kube' | 'clock'>,
  signal: AbortSignal,
  deadline: number,
): ActivityEnvironment {
  const configuration = resolveConfiguration(spec.experiment.configuration, process.env, spec.settings.configuration as JsonObject);
  const secrets = resolveSecrets(spec.experiment.secrets, process.env, spec.settings.secrets as Record<string, JsonObject>);
  // Checked at submission, in the submitting process's environment; this one (a later `chaosduck recover`, a Lambda
  // function) may lack a key: then every activity fails, naming it, rather than run with `${name}` left in.
  const problems = [...configuration.issues, ...secrets.issues].map((issue) => `${issue.field}: ${issue.message}`);
  return {
    runtime: deps.runtime,
    signal,
    aws: deps.aws,
    kube: deps.kube,
    clock: deps.clock,
    deadline,
    values: substitutionValues(configuration.values, secrets.values),
    ...(problems.length > 0 ? { problems } : {}),
  };
}

/**
 * Plays a declared rollback: the activity as the file declares it (from the spec, by its index; the stored copy if
 * the file no longer has it). A failed activity is a failed rollback step; its record is the journal's.
 */
export function declaredRollbackDriver(spec: ChaosToolkitSpec, env: ActivityEnvironment): Pick<FaultDriver, 'provider' | 'revert'> {
  const declared = methodOf(spec.experiment).rollbacks;
  return {
    provider: DECLARED_ROLLBACK,
    async revert(intent) {
      const index = Number(intent.params.index);
      const activity = declared[index] ?? (intent.params.activity as Activity);
      // A dry run plays its rollbacks as it runs its method: recorded, not executed.
      if (dryRuns(activity, spec.settings.dry)) return null;
      const record = await runActivity(activity, env);
      if (record.status === 'failed') throw new ActivityFailed(record.exception?.join(' ') ?? `rollback '${activity.name}' failed`);
      return record.output ?? null;
    },
  };
}
