/**
 * A Chaos Toolkit experiment made into a ChaosDuck spec: the file as written, validated as `chaos validate` does
 * (every problem at its field), the run's settings (`chaos run`'s options), and ChaosDuck's safety settings, read
 * from the file's `chaosduck` extension or defaulted. The default timeout leaves room for the method's pauses.
 */
import * as z from 'zod';
import { fieldIssues, ValidationError, type FieldIssue } from '../errors.js';
import type { JsonObject, JsonValue } from '../journal/activity.js';
import { chaosToolkitSettingsSchema, chaosToolkitSpecSchema, safetySchema, type ChaosToolkitSpec, type FaultSpec } from '../model/experiment.js';
import { nativeFaults } from './native.js';
import { MAX_EXPERIMENT_BYTES } from '../model/parse.js';
import { substitute, substitutionValues } from './configuration.js';
import { chaosDuckExtension, methodOf, totalPauseSeconds } from './method.js';
import { chaosToolkitIssues, isChaosToolkitDocument, type CtkValidationContext } from './validate.js';

/** What the timeout leaves beyond the pauses for the probes and actions themselves. */
const DEFAULT_TIMEOUT_SECONDS = 120;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A Chaos Toolkit document, or one wrapped with the run's settings: `{format: "chaostoolkit", experiment, settings}`. */
export function isChaosToolkitInput(input: unknown): boolean {
  return isChaosToolkitDocument(input) || (isObject(input) && input.format === 'chaostoolkit');
}

export interface SpecContext extends Omit<CtkValidationContext, 'overrides'> {
  /** This control plane's cap on `safety.timeout_seconds`. */
  maxTimeoutSeconds?: number;
  /** The guards a fault meets before any target system is asked (the production rule, protected namespaces). */
  checkFault?: (fault: FaultSpec) => FieldIssue[];
}

/**
 * Validates a Chaos Toolkit input and makes it a spec: the file as `chaos validate` checks it, then what ChaosDuck
 * adds, as for its own requests (its safety settings, the timeout cap, each native action as the fault it is, under
 * the guards that need no target system). A ValidationError names every problem at once.
 */
export function chaosToolkitSpec(input: unknown, context: SpecContext): ChaosToolkitSpec {
  const wrapped = isObject(input) && input.format === 'chaostoolkit';
  const document = wrapped ? input.experiment : input;
  const prefix = (issues: FieldIssue[], at: string) => issues.map((issue) => ({ ...issue, field: issue.field ? `${at}.${issue.field}` : at }));
  const issues: FieldIssue[] = [];
  if (wrapped) {
    const unknown = Object.keys(input).filter((key) => !['format', 'experiment', 'settings'].includes(key));
    issues.push(...unknown.map((key) => ({ field: key, message: 'unknown field (a wrapped Chaos Toolkit experiment has format, experiment and settings)' })));
  }
  const settings = chaosToolkitSettingsSchema.safeParse(wrapped ? (input.settings ?? {}) : {});
  if (!settings.success) issues.push(...prefix(fieldIssues(settings.error.issues), 'settings'));
  const overrides = settings.success ? { configuration: settings.data.configuration as JsonObject, secrets: settings.data.secrets as Record<string, JsonObject> } : {};
  const checked = chaosToolkitIssues(document, { ...context, overrides });
  const fileIssues = [...checked.issues];

  const experiment = (isObject(document) ? document : {}) as JsonObject;
  const values = substitutionValues(checked.validated.configuration, checked.validated.secrets);
  let pauses = 0;
  try {
    pauses = totalPauseSeconds(methodOf(experiment), values);
  } catch {
    // A reference to nothing: already among the file's issues.
  }
  const extension = chaosDuckExtension(experiment);
  const safety = safetySchema.safeParse({ timeout_seconds: Math.min(86_400, Math.ceil(DEFAULT_TIMEOUT_SECONDS + pauses)), ...(isObject(extension?.safety) ? extension.safety : {}) });
  const safetyAt = 'extensions[name=chaosduck].safety';
  if (!safety.success) fileIssues.push(...prefix(fieldIssues(safety.error.issues), safetyAt));
  else if (context.maxTimeoutSeconds !== undefined && safety.data.timeout_seconds > context.maxTimeoutSeconds) {
    fileIssues.push({
      field: `${safetyAt}.timeout_seconds`,
      message: `${safety.data.timeout_seconds}s is above this control plane's cap of ${context.maxTimeoutSeconds}s (MAX_TIMEOUT_SECONDS); shorten the method's pauses or set a shorter timeout`,
    });
  }
  const title = String(substitute(experiment.title ?? '', values));
  const spec = chaosToolkitSpecSchema.safeParse({
    format: 'chaostoolkit',
    name: title.slice(0, 256) || 'untitled',
    description: String(experiment.description ?? '').slice(0, 4096),
    safety: safety.success ? safety.data : {},
    experiment,
    settings: settings.success ? settings.data : {},
  } satisfies z.input<typeof chaosToolkitSpecSchema>);
  if (spec.success) fileIssues.push(...sizeIssues(spec.data), ...faultIssues(spec.data, values, context));
  issues.push(...(wrapped ? prefix(fileIssues, 'experiment') : fileIssues));
  // The spec's own fields (`experiment.…`, `settings.…`) are named as the wrapped form names them.
  if (!spec.success) issues.push(...fieldIssues(spec.error.issues));
  if (issues.length > 0 || !spec.success) throw new ValidationError(issues, 'Chaos Toolkit experiment');
  return spec.data;
}

/** As a ChaosDuck request, at most MAX_EXPERIMENT_BYTES as JSON (a state is 256 KB); the biggest section is named. */
function sizeIssues(spec: ChaosToolkitSpec): FieldIssue[] {
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');
  const total = bytes(spec);
  if (total <= MAX_EXPERIMENT_BYTES) return [];
  const [field, size] = Object.entries(spec.experiment).map(([key, value]): [string, number] => [key, bytes(value)]).sort((a, b) => b[1] - a[1])[0] ?? ['', total];
  return [{ field, message: `too large: the experiment is ${total} bytes as JSON, ${size} of them here; an experiment may be at most ${MAX_EXPERIMENT_BYTES} bytes` }];
}

/** Each native action as its fault: what the fault's own model says of it, then the guards. */
function faultIssues(spec: ChaosToolkitSpec, values: ReadonlyMap<string, JsonValue>, context: SpecContext): FieldIssue[] {
  try {
    methodOf(spec.experiment);
  } catch {
    return []; // a reference to nothing, already among the file's issues
  }
  try {
    return nativeFaults(spec, values).flatMap(({ where, fault }) =>
      (context.checkFault?.(fault) ?? []).map((issue) => ({ ...issue, field: `${where}(as ${fault.chaos_type} ${issue.field})` })),
    );
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    return []; // a malformed method, already among the file's issues
  }
}

/**
 * What ChaosDuck leaves out of a file it runs, to be told before the run: controls (ignored with a warning, as
 * Chaos Toolkit treats a control it cannot load).
 */
export function chaosToolkitWarnings(experiment: JsonObject): string[] {
  const named: string[] = [];
  const collect = (controls: unknown) => {
    if (Array.isArray(controls)) for (const control of controls) named.push(isObject(control) ? String(control.name ?? '?') : '?');
  };
  collect(experiment.controls);
  const hypothesis = experiment['steady-state-hypothesis'];
  if (isObject(hypothesis)) collect(hypothesis.controls);
  for (const list of [isObject(hypothesis) ? hypothesis.probes : [], experiment.method, experiment.rollbacks]) {
    if (Array.isArray(list)) for (const activity of list) if (isObject(activity)) collect(activity.controls);
  }
  return named.length > 0 ? [`controls are not run by ChaosDuck and are ignored: ${[...new Set(named)].join(', ')}; the experiment carries on without them`] : [];
}
