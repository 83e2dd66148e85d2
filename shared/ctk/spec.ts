/**
 * A Chaos Toolkit experiment made into a ChaosDuck spec: the file as written, validated as `chaos validate` does
 * (every problem at its field), the run's settings (`chaos run`'s options), and ChaosDuck's safety settings, read
 * from the file's `chaosduck` extension or defaulted. The default timeout leaves room for the method's pauses.
 */
import * as z from 'zod';
import { fieldIssues, ValidationError, type FieldIssue } from '../errors.js';
import type { JsonObject } from '../journal/activity.js';
import { chaosToolkitSettingsSchema, chaosToolkitSpecSchema, safetySchema, type ChaosToolkitSpec } from '../model/experiment.js';
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

/** Validates a Chaos Toolkit input and makes it a spec; a ValidationError names every problem. */
export function chaosToolkitSpec(input: unknown, context: Omit<CtkValidationContext, 'overrides'>): ChaosToolkitSpec {
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
  issues.push(...(wrapped ? prefix(checked.issues, 'experiment') : checked.issues));
  if (issues.length > 0 || !settings.success) throw new ValidationError(issues, 'Chaos Toolkit experiment');

  const experiment = document as JsonObject;
  const values = substitutionValues(checked.validated.configuration, checked.validated.secrets);
  const extension = chaosDuckExtension(experiment);
  const pauses = totalPauseSeconds(methodOf(experiment), values);
  const safety = safetySchema.safeParse({ timeout_seconds: Math.min(86_400, Math.ceil(DEFAULT_TIMEOUT_SECONDS + pauses)), ...(isObject(extension?.safety) ? extension.safety : {}) });
  if (!safety.success) {
    const at = `${wrapped ? 'experiment.' : ''}extensions[name=chaosduck].safety`;
    throw new ValidationError(prefix(fieldIssues(safety.error.issues), at), 'Chaos Toolkit experiment');
  }
  const title = String(substitute(experiment.title ?? '', values));
  const spec = chaosToolkitSpecSchema.safeParse({
    format: 'chaostoolkit',
    name: title.slice(0, 256),
    description: String(experiment.description ?? '').slice(0, 4096),
    safety: safety.data,
    experiment,
    settings: settings.data,
  } satisfies z.input<typeof chaosToolkitSpecSchema>);
  if (!spec.success) throw new ValidationError(fieldIssues(spec.error.issues), 'Chaos Toolkit experiment');
  return spec.data;
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
