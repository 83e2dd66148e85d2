/**
 * Probes measure the system under test. Each probe type is a function from its validated properties to an outcome;
 * the runner records it as a Chaos Toolkit activity (see `recordActivity`).
 */
import type { JsonValue } from '../journal/activity.js';

export interface ProbeOutcome {
  /** Did the measurement stay within the probe's tolerances? */
  ok: boolean;
  /** What was measured (status, latency, body excerpt, exit code…) and, when not ok, why. */
  output: JsonValue;
}

export interface ProbeEnvironment {
  /** `cmd` probes run shell commands and exist only on the local runtime; in Lambda they are a validation error. */
  runtime: 'local' | 'lambda';
  signal: AbortSignal;
}
