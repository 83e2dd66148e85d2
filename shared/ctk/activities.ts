/**
 * Running Chaos Toolkit activities with chaoslib's semantics, recorded as chaoslib records them (`{activity, status,
 * start, end, duration, output | exception}`):
 * - `http`: 4xx and 5xx do not fail the activity (the status is for a tolerance to judge); a connection error or a
 *   timeout does. The body is parsed JSON when the response says exactly `application/json`.
 * - `process`: a non-zero exit does not fail the activity; a timeout does ("process activity took too long to
 *   complete"). Output `{status, stdout, stderr}`.
 * - `python`: only the functions ChaosDuck runs natively (the probes here; the actions are faults, applied by INJECT
 *   with their rollback written ahead).
 * `${name}` is substituted where chaoslib substitutes (never in a process `path`). Every activity is also bounded by
 * the experiment's deadline: chaoslib has none, ChaosDuck's `safety.timeout_seconds` holds for every activity.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { errorMessage } from '../errors.js';
import type { ActivityRecord, JsonObject, JsonValue } from '../journal/activity.js';
import { execute } from '../probes/cmd.js';
import { moveCredentials, readBody, requestFailure } from '../probes/http.js';
import type { ProbeEnvironment } from '../probes/probe.js';
import { substitute } from './configuration.js';
import { dryRuns, type Activity } from './method.js';
import type { DryMode } from '../model/experiment.js';
import { pyTruthy, withinTolerance } from './tolerance.js';

export interface ActivityEnvironment extends ProbeEnvironment {
  /** What `${name}` stands for: the configuration, then the secrets. */
  values: ReadonlyMap<string, JsonValue>;
  /** Epoch ms the experiment must be over by; no activity runs past it. */
  deadline: number;
  /** Configuration or secrets this process cannot resolve: every activity fails, naming them. */
  problems?: string[];
  clock: () => number;
}

/** An activity that fails, with the reason chaoslib would give. */
export class ActivityFailed extends Error {
  override readonly name = 'ActivityFailed';
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Runs one activity and records it. Never throws for the activity's own failure (that is `status: failed`); only
 * cancelling the run (`env.signal`) throws. `value` is what a probe used as a tolerance receives.
 */
export async function runActivity(activity: Activity, env: ActivityEnvironment, value?: JsonValue): Promise<ActivityRecord> {
  const started = env.clock();
  const finish = (fields: Pick<ActivityRecord, 'status'> & Partial<ActivityRecord>): ActivityRecord => {
    const ended = env.clock();
    return {
      activity: activity as unknown as ActivityRecord['activity'],
      start: new Date(started).toISOString(),
      end: new Date(ended).toISOString(),
      duration: (ended - started) / 1000,
      ...fields,
    };
  };
  try {
    if (env.problems) throw new ActivityFailed(`the configuration cannot be resolved in this process: ${env.problems.join('; ')}`);
    const output = await provide(activity, env, value);
    return finish({ status: 'succeeded', output });
  } catch (error) {
    env.signal.throwIfAborted();
    return finish({ status: 'failed', exception: [`${error instanceof Error ? error.name : 'Error'}: ${errorMessage(error)}`] });
  }
}

/** A dry run: recorded as run, with nothing executed, as chaoslib's dry modes record it. */
export function skippedActivity(activity: Activity, now: number): ActivityRecord {
  const at = new Date(now).toISOString();
  return { activity: activity as unknown as ActivityRecord['activity'], status: 'succeeded', start: at, end: at, duration: 0, output: null };
}

/**
 * Checks the steady-state hypothesis: its probes in order, stopping at the first that misses (as chaoslib does).
 * `errored` when a probe failed to run at all, which Chaos Toolkit tells apart from a miss.
 */
export async function checkHypothesis(
  probes: readonly Activity[],
  env: ActivityEnvironment,
  dry?: DryMode,
): Promise<{ steady_state_met: boolean; probes: ActivityRecord[]; errored: boolean }> {
  const records: ActivityRecord[] = [];
  for (const probe of probes) {
    if (dryRuns(probe, dry)) {
      records.push({ ...skippedActivity(probe, env.clock()), tolerance_met: true });
      continue;
    }
    const record = await runActivity(probe, env);
    if (record.status === 'failed') {
      records.push({ ...record, tolerance_met: false });
      return { steady_state_met: false, probes: records, errored: true };
    }
    const met = await toleranceMet(probe.tolerance, record.output ?? null, env);
    records.push({ ...record, tolerance_met: met });
    if (!met) return { steady_state_met: false, probes: records, errored: false };
  }
  return { steady_state_met: true, probes: records, errored: false };
}

/** Whether a probe's output meets its tolerance; a `probe` tolerance runs, and a failure to run is not met. */
async function toleranceMet(tolerance: JsonValue | undefined, output: JsonValue, env: ActivityEnvironment): Promise<boolean> {
  if (tolerance === undefined) return false;
  if (isObject(tolerance) && tolerance.type === 'probe') {
    const record = await runActivity(tolerance as Activity, env, output);
    return record.status === 'succeeded' && pyTruthy(record.output ?? null);
  }
  return withinTolerance(substitute(tolerance, env.values), output);
}

async function provide(activity: Activity, env: ActivityEnvironment, value: JsonValue | undefined): Promise<JsonValue> {
  const provider = activity.provider;
  const args = substitute((provider.arguments ?? (provider.type === 'process' ? [] : {})) as JsonValue, env.values);
  // A probe used as a tolerance receives the output as `arguments.value`, as chaoslib sets it; a process provider
  // then gets `value` and the output's Python text as its last two arguments.
  const withValue = value === undefined || !isObject(args) ? args : { ...args, value };
  switch (provider.type) {
    case 'http':
      return http(provider, withValue, env);
    case 'process':
      return processProvider(activity, withValue, env);
    case 'python':
      return python(provider, withValue, env);
    default:
      throw new ActivityFailed(`unknown provider type '${String(provider.type)}'`);
  }
}

/** The time an activity may take: its provider's `timeout` (seconds), never past the experiment's deadline. */
function timeLeft(timeoutSeconds: number | undefined, env: ActivityEnvironment): { ms: number; byDeadline: boolean } {
  const left = Math.max(1, env.deadline - env.clock());
  if (timeoutSeconds !== undefined && timeoutSeconds * 1000 < left) return { ms: Math.max(1, Math.round(timeoutSeconds * 1000)), byDeadline: false };
  return { ms: left, byDeadline: true };
}

function secondsOf(timeout: JsonValue | undefined): number | undefined {
  // `[connect, read]`, as requests takes it: together they bound the whole request.
  const total = Array.isArray(timeout) ? timeout.reduce<number>((sum, part) => sum + Number(part), 0) : timeout === undefined || timeout === null ? undefined : Number(timeout);
  return total !== undefined && Number.isFinite(total) && total > 0 ? total : undefined;
}

async function http(provider: JsonObject, args: JsonValue, env: ActivityEnvironment): Promise<JsonValue> {
  const written = substitute(provider.url ?? '', env.values);
  const method = String(provider.method ?? 'GET').toUpperCase();
  const writtenHeaders = isObject(provider.headers) ? substitute(provider.headers, env.values) : {};
  const headers = Object.fromEntries(Object.entries(isObject(writtenHeaders) ? writtenHeaders : {}).map(([k, v]) => [k, String(v)]));
  if (provider.verify_tls === false) {
    throw new ActivityFailed('verify_tls: false is not supported: ChaosDuck always verifies TLS certificates; trust the certificate instead (NODE_EXTRA_CA_CERTS)');
  }
  const target = moveCredentials(String(written), headers);
  const url = new URL(target.url);
  let body: string | undefined;
  if (isObject(args) && Object.keys(args).length > 0) {
    if (method === 'GET') for (const [key, item] of Object.entries(args)) for (const v of [item].flat()) url.searchParams.append(key, formValue(v));
    else if (Object.entries(target.headers).some(([k, v]) => k.toLowerCase() === 'content-type' && v === 'application/json')) body = JSON.stringify(args);
    else {
      const form = new URLSearchParams();
      for (const [key, item] of Object.entries(args)) for (const v of [item].flat()) form.append(key, formValue(v));
      body = form.toString();
      if (!Object.keys(target.headers).some((k) => k.toLowerCase() === 'content-type')) target.headers['content-type'] = 'application/x-www-form-urlencoded';
    }
  }
  const timeout = timeLeft(secondsOf(provider.timeout), env);
  const retries = Math.max(0, Math.min(10, Number(provider.max_retries ?? 0) || 0));
  for (let attempt = 0; ; attempt++) {
    const timer = AbortSignal.timeout(timeout.ms);
    try {
      const response = await fetch(url, { method, headers: target.headers, body, signal: AbortSignal.any([env.signal, timer]) });
      const text = await readBody(response);
      const type = response.headers.get('content-type');
      let parsed: JsonValue = text;
      if (type === 'application/json') {
        try {
          parsed = JSON.parse(text) as JsonValue;
        } catch {
          // Said JSON, was not: kept as the text it is.
        }
      }
      return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: parsed };
    } catch (error) {
      env.signal.throwIfAborted();
      if (attempt < retries && !timer.aborted) continue;
      if (timer.aborted) {
        throw new ActivityFailed(timeout.byDeadline ? 'the experiment reached its safety.timeout_seconds during this request' : `activity took too long to complete (timeout ${secondsOf(provider.timeout)}s)`);
      }
      throw new ActivityFailed(requestFailure(error));
    }
  }
}

/** Python's `str()` of a value, as chaoslib turns process arguments and form values into text. */
function formValue(value: JsonValue): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/** Python's `repr()` of a JSON value (what `str()` gives for anything but a string). */
export function pyRepr(value: JsonValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    // As Python: single quotes, unless the text has one and no double quote.
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return `${quote}${quote === "'" ? escaped.replace(/'/g, "\\'") : escaped}${quote}`;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
}

async function processProvider(activity: Activity, args: JsonValue, env: ActivityEnvironment): Promise<JsonValue> {
  if (env.runtime !== 'local') throw new ActivityFailed(`a process provider runs only on the local runtime (activity '${activity.name}')`);
  const path = String(activity.provider.path);
  // chaoslib: a list is argv (None and "" dropped, the rest as Python's str()); a string goes through the shell
  // after the path; a mapping (deprecated) is flattened to key, value pairs.
  const command: string | string[] =
    typeof args === 'string'
      ? `${path} ${args}`
      : [path, ...(Array.isArray(args) ? args : isObject(args) ? Object.entries(args).flat() : []).filter((a) => a !== null && a !== '').map((a) => formValue(a as JsonValue))];
  const timeout = timeLeft(secondsOf(activity.provider.timeout), env);
  const run = await execute({ command, env: {}, timeout_ms: timeout.ms }, env.signal);
  if (run.failure?.startsWith('timeout')) {
    throw new ActivityFailed(timeout.byDeadline ? 'the experiment reached its safety.timeout_seconds while the process ran' : 'process activity took too long to complete');
  }
  if (run.failure) throw new ActivityFailed(run.failure);
  return { status: run.exitCode ?? (run.signal ? -1 : null), stdout: run.stdout, stderr: run.stderr };
}

/** The natively-run chaosk8s probes, with their return values and failures as the extension gives them. */
async function python(provider: JsonObject, args: JsonValue, env: ActivityEnvironment): Promise<JsonValue> {
  const name = `${String(provider.module)}.${String(provider.func)}`;
  const a = isObject(args) ? args : {};
  switch (name) {
    case 'chaosk8s.pod.probes.pods_in_phase': {
      const selector = String(a.label_selector);
      const phase = String(a.phase ?? 'Running');
      const pods = await listPods(String(a.ns ?? 'default'), selector, env);
      if (pods.length === 0) throw new ActivityFailed(`no pods '${selector}' were found`);
      const wrong = pods.find((pod) => pod.status?.phase !== phase);
      if (wrong) throw new ActivityFailed(`pod '${selector}' is in phase '${wrong.status?.phase ?? 'Unknown'}' but should be '${phase}'`);
      return true;
    }
    case 'chaosk8s.pod.probes.count_pods': {
      const pods = await listPods(String(a.ns ?? 'default'), String(a.label_selector), env);
      const phase = a.phase === undefined || a.phase === null ? undefined : String(a.phase);
      return pods.filter((pod) => phase === undefined || pod.status?.phase === phase).length;
    }
    default:
      // Native actions are faults, applied by INJECT with their rollback written ahead; nothing else runs.
      throw new ActivityFailed(`the python function ${name} is not run here`);
  }
}

async function listPods(namespace: string, labelSelector: string, env: ActivityEnvironment): Promise<V1Pod[]> {
  // The Kubernetes client is loaded when a chaosk8s probe first runs, not with this module.
  const clients = await (env.kube ?? (await import('../probes/k8s.js')).defaultResolver())(undefined);
  const pods: V1Pod[] = [];
  let _continue: string | undefined;
  do {
    const page = await clients.core.listNamespacedPod({ namespace, labelSelector, limit: 500, _continue });
    pods.push(...page.items);
    _continue = page.metadata?._continue || undefined;
  } while (_continue);
  return pods;
}
