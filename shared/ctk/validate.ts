/**
 * Validating a Chaos Toolkit experiment (https://chaostoolkit.org/reference/api/experiment/) as `chaos validate` does,
 * in chaoslib's own words, but naming every problem, each at its field (`method[1].provider.url`), where chaoslib stops
 * at the first. Also what ChaosDuck refuses where Chaos Toolkit would run: a python provider it does not run natively,
 * a process provider outside the local runtime, Vault secrets. Beside Chaos Toolkit's providers, an action may have
 * ChaosDuck's own, `{type: chaosduck, chaos_type, target, parameters}`: one of its built-in faults.
 *
 * Checked in chaoslib's order: title, description, tags, extensions, configuration, secrets, hypothesis, method (each
 * activity, then its reference), rollbacks, controls; then the `runtime` strategies.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ValidationError, type FieldIssue } from '../errors.js';
import type { JsonObject } from '../journal/activity.js';
import { HYPOTHESIS_STRATEGIES, ROLLBACK_STRATEGIES } from '../model/experiment.js';
import { resolveConfiguration, resolveSecrets, type Env, type Overrides } from './configuration.js';
import { pythonProviderProblem } from './extensions.js';
import { toleranceProblem } from './tolerance.js';


export interface CtkValidationContext {
  runtime: 'local' | 'lambda';
  env: Env;
  overrides?: Overrides;
  /** Whether a process `path` can be run (`which`); default: looked up on PATH. */
  which?: (path: string) => boolean;
}

export interface ValidatedCtk {
  configuration: JsonObject;
  secrets: Record<string, JsonObject>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A Chaos Toolkit document, told from a ChaosDuck request by its shape: no `chaos_type`, and CTK's own keys. */
export function isChaosToolkitDocument(document: unknown): boolean {
  return isObject(document) && !('chaos_type' in document) && ['method', 'steady-state-hypothesis', 'rollbacks', 'title'].some((key) => key in document);
}

/** `which`: an executable file of that name on PATH, or at that path. */
export function onPath(path: string, env: Env = process.env): boolean {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (path.includes('/') || isAbsolute(path)) return executable(path);
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && executable(join(dir, path)));
}

/** Every problem of the document; empty when it is valid. */
export function chaosToolkitIssues(document: unknown, context: CtkValidationContext): { issues: FieldIssue[]; validated: ValidatedCtk } {
  const issues: FieldIssue[] = [];
  const add = (field: string, message: string) => issues.push({ field, message });
  if (!isObject(document) || Object.keys(document).length === 0) {
    return { issues: [{ field: '', message: 'an empty experiment is not an experiment' }], validated: { configuration: {}, secrets: {} } };
  }
  const doc = document;
  if (!doc.title) add('title', 'experiment requires a title');
  if (!doc.description) add('description', 'experiment requires a description');
  if (doc.tags !== undefined && doc.tags !== null) {
    if (!Array.isArray(doc.tags)) add('tags', 'experiment tags must be a list of non-empty strings');
    else doc.tags.forEach((tag, i) => (typeof tag !== 'string' || tag === '' ? add(`tags[${i}]`, 'experiment tags must be a non-empty string') : undefined));
  }
  if (doc.extensions !== undefined) {
    if (!Array.isArray(doc.extensions)) add('extensions', 'extensions must be a list');
    else doc.extensions.forEach((ext, i) => (!isObject(ext) || !ext.name ? add(`extensions[${i}].name`, 'All extensions require a non-empty name') : undefined));
  }
  const configuration = resolveConfiguration(doc.configuration, context.env, context.overrides?.configuration);
  const secrets = resolveSecrets(doc.secrets, context.env, context.overrides?.secrets);
  issues.push(...configuration.issues, ...secrets.issues);

  const which = context.which ?? ((path: string) => onPath(path, context.env));
  const checkActivity = (activity: unknown, where: string): FieldIssue[] => activityIssues(activity, where, context.runtime, which);

  // Activities a `{ref}` may name: the method's and the hypothesis's, by name.
  const named = new Set<string>();
  const hypothesis = doc['steady-state-hypothesis'];
  if (hypothesis !== undefined && hypothesis !== null) {
    if (!isObject(hypothesis)) add('steady-state-hypothesis', 'the steady-state hypothesis must be a mapping');
    else {
      if (!hypothesis.title) add('steady-state-hypothesis.title', 'hypothesis requires a title');
      const probes = hypothesis.probes ?? [];
      if (!Array.isArray(probes)) add('steady-state-hypothesis.probes', 'hypothesis probes must be a list');
      else {
        probes.forEach((probe, i) => {
          const where = `steady-state-hypothesis.probes[${i}]`;
          const problems = checkActivity(probe, where);
          issues.push(...problems);
          if (isObject(probe) && typeof probe.name === 'string' && !('ref' in probe)) named.add(probe.name);
          if (problems.length > 0 || !isObject(probe) || 'ref' in probe) return;
          if (!('tolerance' in probe)) add(`${where}.tolerance`, 'hypothesis probe must have a tolerance entry');
          else {
            const problem = toleranceProblem(probe.tolerance, (activity) => checkActivity(activity, `${where}.tolerance`)[0]?.message);
            if (problem) add(`${where}.tolerance`, problem);
          }
        });
      }
      issues.push(...controlIssues(hypothesis.controls, 'steady-state-hypothesis.controls'));
    }
  }

  const method = doc.method;
  if (method === undefined || method === null) add('method', 'an experiment requires a method, which can be empty for only checking steady state hypothesis');
  else if (!Array.isArray(method)) add('method', 'the method must be a list of activities');
  else {
    method.forEach((activity) => {
      // A `{ref}` names another activity; its own `name`, if any, is not one to refer to.
      if (isObject(activity) && typeof activity.name === 'string' && !('ref' in activity)) named.add(activity.name);
    });
    method.forEach((activity, i) => issues.push(...checkActivity(activity, `method[${i}]`), ...refIssues(activity, `method[${i}]`, named)));
  }
  const rollbacks = doc.rollbacks ?? [];
  if (!Array.isArray(rollbacks)) add('rollbacks', 'rollbacks must be a list of activities');
  else rollbacks.forEach((activity, i) => issues.push(...checkActivity(activity, `rollbacks[${i}]`), ...refIssues(activity, `rollbacks[${i}]`, named)));

  issues.push(...controlIssues(doc.controls, 'controls'));
  issues.push(...runtimeIssues(doc.runtime));
  return { issues, validated: { configuration: configuration.values, secrets: secrets.values } };
}

/** As `chaosToolkitIssues`, throwing a ValidationError naming every problem. */
export function validateChaosToolkit(document: unknown, context: CtkValidationContext): ValidatedCtk {
  const { issues, validated } = chaosToolkitIssues(document, context);
  if (issues.length > 0) throw new ValidationError(issues, 'Chaos Toolkit experiment');
  return validated;
}

function refIssues(activity: unknown, where: string, named: ReadonlySet<string>): FieldIssue[] {
  if (!isObject(activity) || typeof activity.ref !== 'string' || activity.ref === '' || named.has(activity.ref)) return [];
  return [{ field: `${where}.ref`, message: `referenced activity '${activity.ref}' could not be found in the experiment` }];
}

/** One activity's problems, in chaoslib's order and words. A `{ref}` is checked for its name only. */
function activityIssues(activity: unknown, where: string, runtime: 'local' | 'lambda', which: (path: string) => boolean): FieldIssue[] {
  const issue = (field: string, message: string): FieldIssue[] => [{ field: field ? `${where}.${field}` : where, message }];
  if (!isObject(activity) || Object.keys(activity).length === 0) return issue('', 'empty activity is no activity');
  if ('ref' in activity) {
    return typeof activity.ref !== 'string' || activity.ref === '' ? issue('ref', 'reference to activity must be non-empty strings') : [];
  }
  const type = activity.type;
  if (!type) return issue('type', 'an activity must have a type');
  if (type !== 'probe' && type !== 'action') return issue('type', `'${String(type)}' is not a supported activity type`);
  const name = activity.name;
  if (!name || typeof name !== 'string') return issue('name', 'an activity must have a name');
  const provider = activity.provider;
  if (!isObject(provider) || Object.keys(provider).length === 0) return issue('provider', 'an activity requires a provider');
  const providerType = provider.type;
  if (!providerType) return issue('provider.type', 'a provider must have a type');
  if (!['python', 'process', 'http', 'chaosduck'].includes(String(providerType))) return issue('provider.type', `unknown provider type '${String(providerType)}'`);
  // ChaosDuck's own: a built-in fault as a method action (its chaos_type, target and parameters are checked with the
  // fault, in native.ts). Chaos Toolkit itself does not know this provider.
  if (providerType === 'chaosduck' && type !== 'action') return issue('provider.type', `a chaosduck provider applies a fault, so only an action can have it (activity '${name}')`);

  const issues: FieldIssue[] = [];
  if (activity.timeout !== undefined && typeof activity.timeout !== 'number') issues.push(...issue('timeout', 'activity timeout must be a number'));
  if (activity.pauses !== undefined) {
    const pauses = isObject(activity.pauses) ? activity.pauses : {};
    for (const when of ['before', 'after'] as const) {
      const pause = pauses[when];
      const variable = typeof pause === 'string' && pause.startsWith('${') && pause.endsWith('}');
      if (pause !== undefined && typeof pause !== 'number' && !variable) {
        issues.push(...issue(`pauses.${when}`, `activity ${when} pause must be a number or a pattern to a variable from the configuration or secrets`));
      }
    }
  }
  if ('background' in activity && typeof activity.background !== 'boolean') issues.push(...issue('background', 'activity background must be a boolean'));

  switch (providerType) {
    case 'http':
      if (!provider.url) issues.push(...issue('provider.url', 'a HTTP activity must have a URL'));
      if (provider.headers !== undefined && !isObject(provider.headers)) issues.push(...issue('provider.headers', 'a HTTP activities expect headers as a mapping'));
      break;
    case 'process': {
      const path = provider.path;
      if (!path || typeof path !== 'string') issues.push(...issue('provider.path', 'a process activity must have a path'));
      else if (runtime !== 'local') {
        issues.push(...issue('provider.type', `a process provider runs commands on the machine that runs the experiment, so only the local runtime runs it (activity '${name}'); use an http provider here`));
      } else if (!which(path)) issues.push(...issue('provider.path', `path '${path}' cannot be found, in activity '${name}'`));
      break;
    }
    case 'python': {
      const problem = pythonProviderProblem(provider, name, String(type));
      if (problem) issues.push(...issue(`provider.${problem.field}`, problem.message));
      break;
    }
  }
  issues.push(...controlIssues(activity.controls, `${where}.controls`));
  return issues;
}

function controlIssues(controls: unknown, where: string): FieldIssue[] {
  if (controls === undefined || controls === null) return [];
  if (!Array.isArray(controls)) return [{ field: where, message: 'controls must be a list' }];
  return controls.flatMap((control, i): FieldIssue[] => {
    const at = `${where}[${i}]`;
    if (!isObject(control) || !('name' in control)) return [{ field: `${at}.name`, message: 'A control must have a `name` property' }];
    if (!('provider' in control) && !('ref' in control)) return [{ field: `${at}.provider`, message: `Control '${String(control.name)}' must have a \`provider\` property` }];
    if (control.scope !== undefined && control.scope !== 'before' && control.scope !== 'after') {
      return [{ field: `${at}.scope`, message: `Control '${String(control.name)}' scope property must be 'before' or 'after' only` }];
    }
    return [];
  });
}

function runtimeIssues(runtime: unknown): FieldIssue[] {
  if (runtime === undefined || runtime === null) return [];
  if (!isObject(runtime)) return [{ field: 'runtime', message: 'runtime must be a mapping' }];
  const issues: FieldIssue[] = [];
  const rollbacks = isObject(runtime.rollbacks) ? runtime.rollbacks.strategy : undefined;
  if (rollbacks !== undefined && !(ROLLBACK_STRATEGIES as readonly unknown[]).includes(rollbacks)) {
    issues.push({ field: 'runtime.rollbacks.strategy', message: `unknown rollback strategy '${String(rollbacks)}' (one of ${ROLLBACK_STRATEGIES.join(', ')})` });
  }
  const hypothesis = isObject(runtime.hypothesis) ? runtime.hypothesis.strategy : undefined;
  if (hypothesis !== undefined && hypothesis !== 'continously' && !(HYPOTHESIS_STRATEGIES as readonly unknown[]).includes(hypothesis)) {
    issues.push({ field: 'runtime.hypothesis.strategy', message: `unknown hypothesis strategy '${String(hypothesis)}' (one of ${HYPOTHESIS_STRATEGIES.join(', ')})` });
  }
  return issues;
}
