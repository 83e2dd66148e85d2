/**
 * The REST API's operations, one function per route, each taking parsed request parts and its dependencies and
 * returning a status and a JSON body. The handler maps routes to them; errors are thrown as the catalogue's classes.
 */
import { ok, type ApiResult } from '../../shared/http/rest.js';
import { ChaosDuckError, NotFoundError, ValidationError, fieldIssues } from '../../shared/errors.js';
import type { JsonObject } from '../../shared/journal/activity.js';
import {
  dryRun,
  liftEmergencyStop,
  raiseEmergencyStop,
  requestRollback,
  submitExperiment,
  validateExperiment,
  type ControlBus,
  type ControlDeps,
} from '../../shared/lifecycle/control.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { isChaosToolkitSpec } from '../../shared/model/experiment.js';
import { chaosToolkitWarnings } from '../../shared/ctk/spec.js';
import { combinedTopologyQuery, IDEMPOTENCY_KEY, k8sTopologyQuery, listQuery, steadyStateQuery, stopBody, topologyQuery } from './routes.js';
import { isFinal, type ExperimentRecord } from '../../shared/model/lifecycle.js';
import {
  awsSignals,
  eventReadings,
  experimentTarget,
  journalReadings,
  kubernetesSignals,
  latestProbes,
  targetMatches,
  type ExperimentReadings,
  type TargetFilter,
} from '../../shared/observability/steady-state.js';
import type { ExperimentStore } from '../../shared/store/store.js';
import { CorruptRecordError } from '../../shared/store/records.js';

/** What the topology routes read; a control plane without AWS (Kubernetes) access leaves `aws` (`k8s`) out. */
export interface TopologySources {
  aws?: (region: string | undefined) => Promise<JsonObject>;
  /** `cluster` names a kubeconfig context locally, an EKS cluster (name or ARN) in AWS; undefined: the default one, if any. */
  k8s?: (cluster: string | undefined) => Promise<JsonObject>;
  /** The local sandbox's service and replicas, where the embedded runtime serves one (never in AWS). */
  sandbox?: () => Promise<JsonObject>;
  /**
   * Whether a source's failure says no more than that this machine is not configured for it at all (locally: no
   * kubeconfig; no AWS region or credentials): the combined topology shows it as `null`, as a source not given.
   */
  notConfigured?: (source: 'aws' | 'k8s', error: unknown) => boolean;
}

export type ApiDeps = LifecycleDeps & ControlDeps & { control: ControlBus; topology: TopologySources };

export type { ApiResult };

export async function health(deps: ApiDeps): Promise<ApiResult> {
  const stop = await deps.store.getEmergencyStop();
  return ok({ status: 'ok', runtime: deps.runtime, emergency_stop: stop });
}


export async function createExperiment(body: unknown, idempotencyKey: string | undefined, deps: ApiDeps): Promise<ApiResult> {
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters (a UUID is a good key)' }], 'request');
  }
  // A dry run asked for in the experiment itself is answered like POST /api/chaos/dry-run: the plan, nothing stored.
  const spec = validateExperiment(body, deps);
  if (spec.safety.dry_run) return ok(await dryRun(body, deps));
  const submitted = await submitExperiment(body, deps, idempotencyKey);
  // What ChaosDuck leaves out of a Chaos Toolkit file (its controls) is said, as `chaos run` says it.
  const warnings = isChaosToolkitSpec(spec) ? chaosToolkitWarnings(spec.experiment) : [];
  return ok(
    {
      id: submitted.id,
      execution_arn: submitted.executionArn,
      status: 'pending',
      links: { self: `/api/chaos/experiments/${submitted.id}` },
      ...(warnings.length > 0 ? { warnings } : {}),
    },
    202,
    submitted.replayed ? { 'Idempotent-Replayed': 'true' } : undefined,
  );
}


export async function listExperiments(query: Record<string, string | undefined>, deps: ApiDeps): Promise<ApiResult> {
  const parsed = listQuery.safeParse(query);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'query');
  const { status, chaos_type: chaosType, limit, cursor } = parsed.data;
  const page = await deps.store.listExperiments({ status, chaosType, limit, cursor });
  return ok({
    items: page.items.map(summary),
    next_cursor: page.cursor ?? null,
    ...(page.corrupt ? { corrupt: page.corrupt.map((error) => ({ key: error.key, message: error.message })) } : {}),
  });
}

const MAX_EVENTS_SHOWN = 500;

/** Experiment ids are `exp-<uuid>`; anything far from that shape names no experiment, and never reaches the store. */
const EXPERIMENT_ID = /^[A-Za-z0-9][\w.:-]{0,127}$/;

function assertExperimentId(id: string): void {
  if (!EXPERIMENT_ID.test(id)) throw new NotFoundError(`experiment ${id.length > 64 ? `${id.slice(0, 64)}…` : id} not found`);
}

export async function getExperiment(id: string, deps: ApiDeps): Promise<ApiResult> {
  assertExperimentId(id);
  const { record, phases, events, stack, journal } = await deps.store.loadExperiment(id);
  return ok({
    ...summary(record),
    spec: record.spec,
    phase_results: phases,
    rollback_stack: stack.map(({ seq, action, target, state, outcome }) => ({ seq, action, target: target.id, state, outcome: outcome ?? null })),
    // While it runs, the latest events (a long run gathers more than one answer should carry); once ended, the journal.
    ...(journal ? { journal } : { events: events.slice(-MAX_EVENTS_SHOWN), events_total: events.length }),
  });
}

export async function rollbackExperiment(id: string, deps: ApiDeps): Promise<ApiResult> {
  assertExperimentId(id);
  const { executionArn } = await requestRollback(id, 'manual_rollback', deps);
  return ok({ id, execution_arn: executionArn, status: 'rolling_back', links: { self: `/api/chaos/experiments/${id}` } }, 202);
}

export async function dryRunExperiment(body: unknown, deps: ApiDeps): Promise<ApiResult> {
  return ok(await dryRun(body, deps));
}


export async function emergencyStop(body: unknown, deps: ApiDeps): Promise<ApiResult> {
  const parsed = stopBody.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'request');
  return ok(await raiseEmergencyStop(parsed.data.reason, deps));
}

export async function liftStop(deps: ApiDeps): Promise<ApiResult> {
  return ok(await liftEmergencyStop(deps));
}


export async function awsTopology(query: Record<string, string | undefined>, deps: ApiDeps): Promise<ApiResult> {
  const parsed = topologyQuery.safeParse(query);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'query');
  if (!deps.topology.aws) throw new NotFoundError('this control plane has no AWS access configured');
  return ok(await deps.topology.aws(parsed.data.region));
}


export async function k8sTopology(query: Record<string, string | undefined>, deps: ApiDeps): Promise<ApiResult> {
  const parsed = k8sTopologyQuery.safeParse(query);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'query');
  if (!deps.topology.k8s) throw new NotFoundError('this control plane has no Kubernetes access configured');
  return ok(await deps.topology.k8s(parsed.data.cluster));
}


/**
 * Both sources at once. A source that is not configured is `null`; one that fails is reported in its place as
 * `{error: {code, message}}`, so one unreachable cloud does not hide the other.
 */
export async function combinedTopology(query: Record<string, string | undefined>, deps: ApiDeps): Promise<ApiResult> {
  const parsed = combinedTopologyQuery.safeParse(query);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'query');
  return ok(await readTopology(deps.topology, parsed.data));
}

/**
 * Both topology sources; one not configured (not given, or failing only for want of any configuration) is `null`, one
 * that fails is `{error: {code, message}}` in its place. The local sandbox is there as `sandbox` only where one runs.
 */
export async function readTopology(
  sources: TopologySources,
  { region, cluster }: { region?: string; cluster?: string } = {},
): Promise<{ aws: JsonObject | null; kubernetes: JsonObject | null; sandbox?: JsonObject }> {
  const read = async (source: (() => Promise<JsonObject>) | undefined, name?: 'aws' | 'k8s'): Promise<JsonObject | null> => {
    if (!source) return null;
    try {
      return await source();
    } catch (error) {
      if (name && sources.notConfigured?.(name, error)) return null;
      const err = error instanceof Error ? error : new Error(String(error));
      const code = error instanceof ChaosDuckError ? error.code : 'SOURCE_UNAVAILABLE';
      return { error: { code, message: `${err.name}: ${err.message}` } };
    }
  };
  const { aws, k8s } = sources;
  const [awsResult, kubernetes, sandbox] = await Promise.all([read(aws && (() => aws(region)), 'aws'), read(k8s && (() => k8s(cluster)), 'k8s'), read(sources.sandbox)]);
  return { aws: awsResult, kubernetes, ...(sandbox ? { sandbox } : {}) };
}


/** How many listed experiments one steady-state answer looks through to find `limit` that match. */
const MAX_EXPERIMENTS_SCANNED = 500;
const READS_AT_ONCE = 8;


/**
 * The steady-state signals as last seen: the latest value of each probe per target, from the newest `limit`
 * experiments whose target matches the filters (created since `since`), and what the topology sources read now
 * (ready replicas per workload, instance and DB cluster states; a source that is not configured or fails is
 * reported unavailable, with the reason). Stored items that cannot be read are named under `corrupt`.
 */
export async function steadyState(query: Record<string, string | undefined>, deps: ApiDeps): Promise<ApiResult> {
  const parsed = steadyStateQuery.safeParse(query);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'query');
  const { limit, since, target, namespace, region, cluster } = parsed.data;
  // Stored times are UTC (`…Z`); a time given with an offset is compared in the same terms.
  const after = since === undefined ? undefined : new Date(since).toISOString();
  const corrupt = new Map<string, string>();
  const [records, sources] = await Promise.all([
    recentExperiments(deps.store, { limit, since: after, filter: { target, namespace, region, cluster } }, corrupt),
    readTopology(deps.topology, { region, cluster }),
  ]);
  const experiments: ExperimentReadings[] = new Array(records.length);
  let next = 0;
  const worker = async () => {
    while (next < records.length) {
      const index = next++;
      experiments[index] = await probeReadingsOf(records[index] as ExperimentRecord, deps.store, corrupt);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, records.length) }, worker));
  const { targets, unreadable } = latestProbes(experiments);
  for (const { experimentId, count, problem } of unreadable) corrupt.set(`EXP#${experimentId}`, `${count} probe result(s) could not be read (${problem})`);
  return ok({
    generated_at: new Date(deps.clock()).toISOString(),
    experiments_read: { count: records.length, limit, since: after ?? null },
    targets,
    kubernetes: kubernetesSignals(sources.kubernetes, { namespace }),
    aws: awsSignals(sources.aws),
    ...(corrupt.size > 0 ? { corrupt: [...corrupt].map(([key, message]) => ({ key, message })) } : {}),
  });
}

/** The newest experiments whose target matches, up to `limit`; a listed item that cannot be read is noted in `corrupt`. */
async function recentExperiments(
  store: ExperimentStore,
  { limit, since, filter }: { limit: number; since?: string; filter: TargetFilter },
  corrupt: Map<string, string>,
): Promise<ExperimentRecord[]> {
  const found: ExperimentRecord[] = [];
  // Unfiltered, the newest `limit` are the ones; filtered, the matches may be far apart: larger pages, fewer calls.
  const pageSize = Object.values(filter).some((value) => value !== undefined) ? 100 : limit;
  let scanned = 0;
  let cursor: string | undefined;
  do {
    const page = await store.listExperiments({ limit: pageSize, cursor, newestFirst: true });
    for (const error of page.corrupt ?? []) corrupt.set(error.key, error.message);
    for (const record of page.items) {
      if (since !== undefined && record.createdAt < since) return found;
      if (targetMatches(experimentTarget(record.spec), filter)) found.push(record);
      if (found.length === limit) return found;
    }
    scanned += page.items.length + (page.corrupt?.length ?? 0);
    cursor = page.cursor;
  } while (cursor !== undefined && scanned < MAX_EXPERIMENTS_SCANNED);
  return found;
}

/**
 * An ended experiment's probe results are in its journal, one item; a running one's (or one whose journal was cut
 * down to fit, or cannot be read) are in its events.
 */
async function probeReadingsOf(record: ExperimentRecord, store: ExperimentStore, corrupt: Map<string, string>): Promise<ExperimentReadings> {
  const unreadable = (error: unknown): undefined => {
    if (!(error instanceof CorruptRecordError)) throw error;
    corrupt.set(error.key, error.message);
    return undefined;
  };
  if (isFinal(record.status)) {
    const journal = await store.getJournal(record.id).catch(unreadable);
    const compacted = (journal?.chaosduck as JsonObject | undefined)?.journal_compacted !== undefined;
    if (journal && !compacted) return { record, readings: journalReadings(journal, record.spec) };
  }
  const bundle = await store.loadExperiment(record.id).catch(unreadable);
  for (const key of bundle?.unreadable ?? []) if (!corrupt.has(key)) corrupt.set(key, `stored item ${key} could not be read; it is left out`);
  return { record, readings: bundle ? eventReadings(bundle.events) : [] };
}

function summary(record: ExperimentRecord): JsonObject {
  return {
    id: record.id,
    name: record.spec.name,
    chaos_type: isChaosToolkitSpec(record.spec) ? null : record.spec.chaos_type,
    format: isChaosToolkitSpec(record.spec) ? 'chaostoolkit' : 'chaosduck',
    status: record.status,
    phase: record.phase ?? null,
    reason: record.reason ?? null,
    error: record.error ?? null,
    deviated: record.deviated ?? null,
    created_at: record.createdAt,
    started_at: record.startedAt ?? null,
    ended_at: record.endedAt ?? null,
    execution_arn: record.executionArn ?? null,
  };
}

