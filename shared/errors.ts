/**
 * The error catalogue. Every failure the control plane expects has a class with a stable `name`: ASL `Retry`/`Catch`
 * match on it (Lambda reports `errorType` = name), the API maps it to an HTTP status, and the journal records it.
 * Tasks throw these; they never return error payloads.
 */

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `safety.timeout_seconds` or `probes[0].name`. */
  field: string;
  message: string;
}

export abstract class ChaosDuckError extends Error {
  abstract override readonly name: string;
  /** HTTP status when this error reaches an API client; 5xx errors are shown only as a generic message. */
  abstract readonly status: number;
  get code(): string {
    return this.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  }
}

export class ValidationError extends ChaosDuckError {
  override readonly name = 'ValidationError';
  readonly status = 400;
  constructor(
    readonly issues: FieldIssue[],
    what = 'experiment',
  ) {
    super(`Invalid ${what}: ${issues.map((i) => `${i.field || '(root)'}: ${i.message}`).join('; ')}`);
  }
}

export class NotFoundError extends ChaosDuckError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
}

/**
 * A guardrail said no: nothing was injected. When a setting of the experiment would have let it through, `fields`
 * names it and the value that would (`safety.max_blast_radius`), so a form can show the refusal beside that field.
 */
export abstract class GuardrailError extends ChaosDuckError {
  readonly status: number = 409;
  constructor(
    message: string,
    readonly fields?: FieldIssue[],
  ) {
    super(message);
  }
}
export class BlastRadiusExceededError extends GuardrailError {
  override readonly name = 'BlastRadiusExceededError';
}
export class NoTargetsError extends GuardrailError {
  override readonly name = 'NoTargetsError';
}
export class TimeoutCapExceededError extends GuardrailError {
  override readonly name = 'TimeoutCapExceededError';
}
export class ProductionGuardError extends GuardrailError {
  override readonly name = 'ProductionGuardError';
}
/**
 * The target system refuses the fault before anything was written (admission, an API it does not serve, a spec it
 * finds invalid): the message carries its reason.
 */
export class TargetRefusedError extends GuardrailError {
  override readonly name = 'TargetRefusedError';
}
export class TargetLeasedError extends GuardrailError {
  override readonly name = 'TargetLeasedError';
}
export class EmergencyStopActiveError extends GuardrailError {
  override readonly name = 'EmergencyStopActiveError';
  override readonly status = 503;
}
/**
 * A provider this control plane runs cannot be reached as configured (no credentials, no kubeconfig, a cluster that
 * is not serving): 503, as the request may well be right; the message names what is missing.
 */
export class ProviderUnavailableError extends GuardrailError {
  override readonly name = 'ProviderUnavailableError';
  override readonly status = 503;
}

/** OBSERVE halts when the probes failed `health_check_failure_threshold` times in a row. */
export class HealthCheckThresholdError extends ChaosDuckError {
  override readonly name = 'HealthCheckThresholdError';
  readonly status = 500;
}
/** A stop condition (a CloudWatch alarm in ALARM) fired during OBSERVE: the experiment halts at once. */
export class StopConditionError extends ChaosDuckError {
  override readonly name = 'StopConditionError';
  readonly status = 500;
}
/** The experiment ran past `safety.timeout_seconds`. */
export class ExperimentTimeoutError extends ChaosDuckError {
  override readonly name = 'ExperimentTimeoutError';
  readonly status = 500;
}
/** Applying a fault failed; whatever was written ahead is rolled back. */
export class InjectionFailedError extends ChaosDuckError {
  override readonly name = 'InjectionFailedError';
  readonly status = 500;
}
/** The run was stopped (aborted, emergency-stopped, rolled back) while INJECT was still applying faults. */
export class ExperimentCancelledError extends ChaosDuckError {
  override readonly name = 'ExperimentCancelledError';
  readonly status = 409;
}
/** The control plane is stopping (and rolling back what runs): it takes no new experiment. */
export class ShuttingDownError extends ChaosDuckError {
  override readonly name = 'ShuttingDownError';
  readonly status = 503;
}
export class ConflictError extends ChaosDuckError {
  override readonly name = 'ConflictError';
  readonly status = 409;
}

/** A setting (an environment variable) is malformed: the process refuses to start rather than run without a guardrail. */
export class ConfigurationError extends ChaosDuckError {
  override readonly name = 'ConfigurationError';
  readonly status = 500;
}

/** Turns zod issues into field issues with readable paths (`probes[0].properties.url`). */
export function fieldIssues(
  issues: ReadonlyArray<{
    path: ReadonlyArray<PropertyKey>;
    message: string;
    code?: string;
    keys?: readonly string[];
    issues?: ReadonlyArray<{ message: string }>;
  }>,
): FieldIssue[] {
  return issues.flatMap((issue) =>
    // An unknown key is named as the field itself, so `parameters.latncy_ms` points at the typo.
    issue.code === 'unrecognized_keys' && issue.keys
      ? issue.keys.map((key) => ({ field: fieldPath([...issue.path, key]), message: 'unknown field' }))
      : // A bad record key (e.g. a label key) carries its reason inside; the outer message is only "Invalid key in record".
        issue.code === 'invalid_key' && issue.issues && issue.issues.length > 0
        ? issue.issues.map((inner) => ({ field: fieldPath(issue.path), message: inner.message }))
        : [{ field: fieldPath(issue.path), message: issue.message }],
  );
}

export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
