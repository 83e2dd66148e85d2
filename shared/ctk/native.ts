/**
 * The chaosaws and chaosk8s actions ChaosDuck runs natively, each as the ChaosDuck fault it is: same targets, same
 * effect, but with the rollback written ahead, the blast radius, the production guard and target leases that every
 * ChaosDuck fault has. An argument the fault cannot honour is refused at validation, naming it; nothing runs.
 */
import { ChaosDuckError, fieldIssues, ValidationError, type FieldIssue } from '../errors.js';
import type { JsonObject, JsonValue } from '../journal/activity.js';
import { experimentSchema, type ChaosToolkitSpec, type FaultSpec } from '../model/experiment.js';
import { substitute } from './configuration.js';
import { NATIVE_FUNCTIONS } from './extensions.js';
import { methodOf, type Activity } from './method.js';

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The native function an activity calls, if it calls one that is an action (`chaosduck` for a built-in fault). */
export function nativeAction(activity: Activity): string | undefined {
  const provider = activity.provider;
  if (provider.type === 'chaosduck') return 'chaosduck';
  if (provider.type !== 'python') return undefined;
  const name = `${String(provider.module)}.${String(provider.func)}`;
  return NATIVE_FUNCTIONS[name]?.kind === 'action' ? name : undefined;
}

/** `app=web,tier in (a)`: only equality terms make labels; anything else cannot select ChaosDuck targets. */
function labelsOf(selector: JsonValue | undefined, refuse: (message: string) => never): Record<string, string> | undefined {
  if (selector === undefined || selector === null || selector === '') return undefined;
  const labels: Record<string, string> = {};
  for (const term of String(selector).split(',').map((t) => t.trim()).filter(Boolean)) {
    const match = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(term);
    if (!match) refuse(`label_selector term "${term}" is not key=value; ChaosDuck selects pods by label equality`);
    labels[match[1] as string] = match[2] as string;
  }
  return labels;
}

/**
 * The fault an action becomes. `where` is the activity's field (`method[2]`), for errors. Region: the configuration's
 * `aws_region`, as chaosaws reads it, else the runtime's own.
 */
export function nativeFaultSpec(activity: Activity, spec: ChaosToolkitSpec, values: ReadonlyMap<string, JsonValue>, where: string): FaultSpec {
  const name = nativeAction(activity);
  const at = `${where}.provider.arguments`;
  const refuse = (message: string, field = at): never => {
    throw new ValidationError([{ field, message: `${message} (activity '${activity.name}')` }], 'Chaos Toolkit experiment');
  };
  if (!name) return refuse(`activity '${activity.name}' is not an action ChaosDuck runs natively`, `${where}.provider`);
  const args = substitute(activity.provider.arguments ?? {}, values);
  const a = isObject(args) ? args : {};
  const region = values.get('aws_region');
  const aws = { provider: 'aws', ...(typeof region === 'string' ? { region } : {}) };
  let fault: { chaos_type: string; target: JsonObject; parameters: JsonObject };
  switch (name) {
    case 'chaosduck': {
      // A built-in fault, written as a ChaosDuck request writes it. Its own expiry (duration_seconds: the dead-man's
      // switch of the faults that have one) defaults to the whole experiment: it stays until the rollback.
      const provider = substitute(activity.provider, values) as JsonObject;
      const parameters = isObject(provider.parameters) ? provider.parameters : {};
      fault = {
        chaos_type: String(provider.chaos_type ?? ''),
        target: isObject(provider.target) ? provider.target : {},
        parameters: { duration_seconds: Math.max(0, spec.safety.timeout_seconds - 1), ...parameters },
      };
      const unknown = Object.keys(provider).filter((key) => !['type', 'chaos_type', 'target', 'parameters'].includes(key));
      if (unknown.length > 0) refuse(`unknown field(s) ${unknown.join(', ')}: a chaosduck provider has chaos_type, target and parameters`, `${where}.provider.${unknown[0]}`);
      break;
    }
    case 'chaosk8s.pod.actions.terminate_pods': {
      if (a.name_pattern !== undefined && a.name_pattern !== null) refuse('name_pattern is not supported: ChaosDuck selects pods by labels (label_selector)', `${at}.name_pattern`);
      if (a.order === 'oldest') refuse('order "oldest" is not supported: ChaosDuck picks pods at random or all of them', `${at}.order`);
      const labels = labelsOf(a.label_selector, (m) => refuse(m, `${at}.label_selector`));
      if (!labels) refuse('a label_selector is needed: without one chaosk8s would pick from every pod of the namespace, which ChaosDuck refuses', `${at}.label_selector`);
      const qty = Number(a.qty ?? 1);
      const selection = a.all === true ? 'ALL' : a.mode === 'percentage' ? `PERCENT(${qty})` : `COUNT(${qty})`;
      const grace = Number(a.grace_period ?? -1);
      fault = {
        chaos_type: 'pod_delete',
        target: { provider: 'kubernetes', namespace: String(a.ns ?? 'default'), labels: labels as JsonObject, selection },
        parameters: { duration_seconds: 0, ...(grace >= 0 ? { grace_period_seconds: grace } : {}) },
      };
      break;
    }
    case 'chaosk8s.pod.actions.delete_pods': {
      const labels = labelsOf(a.label_selector, (m) => refuse(m, `${at}.label_selector`));
      if (!labels && !a.name) refuse('give name or label_selector: without them chaosk8s would delete every pod of the namespace, which ChaosDuck refuses');
      fault = {
        chaos_type: 'pod_delete',
        target: { provider: 'kubernetes', namespace: String(a.ns ?? 'default'), ...(a.name ? { pod_names: [String(a.name)] } : { labels: labels as JsonObject }), selection: 'ALL' },
        parameters: { duration_seconds: 0 },
      };
      break;
    }
    case 'chaosaws.ec2.actions.stop_instances': {
      if (a.az !== undefined && a.az !== null) refuse('az is not supported: it would stop every instance of the zone; give instance_ids', `${at}.az`);
      if (a.filters !== undefined && a.filters !== null) refuse('filters are not supported; give instance_ids', `${at}.filters`);
      fault = { chaos_type: 'ec2_stop', target: { ...aws, instance_ids: a.instance_ids ?? null, selection: 'ALL' }, parameters: { force: a.force ?? false, duration_seconds: 0 } };
      break;
    }
    case 'chaosaws.rds.actions.failover_db_cluster':
      fault = {
        chaos_type: 'rds_failover',
        target: { ...aws, db_cluster_identifier: a.db_cluster_identifier ?? null },
        parameters: { duration_seconds: 0, ...(a.target_db_instance_identifier ? { target_db_instance_identifier: a.target_db_instance_identifier } : {}) },
      };
      break;
    default: // chaosaws.rds.actions.reboot_db_instance
      fault = { chaos_type: 'rds_failover', target: { ...aws, db_instance_identifier: a.db_instance_identifier ?? null }, parameters: { duration_seconds: 0 } };
  }
  const parsed = experimentSchema.safeParse({
    ...fault,
    // A fault's name goes where the production guard reads it; the activity's name, in the characters names allow.
    name: activity.name.replace(/[^\w .:@/-]/g, '-').slice(0, 128) || 'activity',
    safety: spec.safety,
  });
  if (!parsed.success) {
    // A built-in fault's fields are the provider's own; a chaosk8s/chaosaws call's are its arguments, as the fault.
    const field = (path: string) => (name === 'chaosduck' ? `${where}.provider.${path}` : `${at}(as ${fault.chaos_type} ${path})`);
    const issues = fieldIssues(parsed.error.issues).map((issue) => ({ ...issue, field: field(issue.field), message: `${issue.message} (activity '${activity.name}')` }));
    throw new ValidationError(issues, 'Chaos Toolkit experiment');
  }
  return parsed.data;
}

/**
 * Every native action of the method as its fault, by the field it is written at; a native action declared as a
 * rollback is refused (a rollback undoes, it does not inject). All problems at once.
 */
export function nativeFaults(spec: ChaosToolkitSpec, values: ReadonlyMap<string, JsonValue>): { where: string; fault: FaultSpec }[] {
  const { method, rollbacks } = methodOf(spec.experiment);
  const faults: { where: string; fault: FaultSpec }[] = [];
  const issues: FieldIssue[] = [];
  method.forEach((activity, index) => {
    if (!nativeAction(activity)) return;
    try {
      faults.push({ where: `method[${index}]`, fault: nativeFaultSpec(activity, spec, values, `method[${index}]`) });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  });
  rollbacks.forEach((activity, index) => {
    const name = nativeAction(activity);
    if (name) issues.push({ field: `rollbacks[${index}].provider`, message: `${name} applies a fault; a rollback cannot (activity '${activity.name}'). ChaosDuck undoes its faults itself` });
  });
  if (issues.length > 0) throw new ValidationError(issues, 'Chaos Toolkit experiment');
  return faults;
}

/**
 * A guardrail's refusal of a native action, in the file's terms: which activity, and where a Chaos Toolkit file sets
 * the `safety.*` setting the message asks to change. Any other error comes back as it is.
 */
export function inFileTerms(error: unknown, where: string, activity: string): unknown {
  if (!(error instanceof ChaosDuckError) || error instanceof ValidationError) return error;
  const hint = error.message.includes('safety.') ? '; in a Chaos Toolkit file, safety settings go in extensions: [{name: chaosduck, safety: {…}}]' : '';
  const Refusal = error.constructor as new (message: string) => ChaosDuckError;
  return new Refusal(`${where} (activity '${activity}'): ${error.message}${hint}`);
}
