/**
 * `rds_failover`: forces a failover of an Aurora / Multi-AZ DB cluster (FailoverDBCluster) or of a Multi-AZ DB
 * instance (RebootDBInstance with ForceFailover).
 *
 * A failover cannot be undone as such: the old writer comes back as a reader (or the old primary as the standby).
 * The rollback therefore either fails back to the original writer (`fail_back: true`, clusters and Multi-AZ
 * instances) or records `not_reversible: true` and only verifies that the database is `available` again. Both work
 * from the stored intent alone and are idempotent: a second revert finds the original writer in place (or the
 * database available) and changes nothing.
 */
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  RebootDBInstanceCommand,
  type DBCluster,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { ValidationError } from '../../errors.js';
import type { JsonObject, JsonValue } from '../../journal/activity.js';
import type { RollbackIntent, TargetRef } from '../driver.js';
import type { AwsClientFactory } from './clients.js';
import { targetLocation, type AwsFault, type AwsSpec } from './fault.js';

export type RdsFailoverSpec = Extract<AwsSpec, { chaos_type: 'rds_failover' }>;
export type RdsTargetKind = 'cluster' | 'instance';

export const RDS_FAILOVER_ACTION = 'fail_back_or_verify';

export interface RdsFailoverOptions {
  /** Between two DescribeDB* calls while waiting for a failover to finish. */
  pollIntervalMs?: number;
  /** The longest apply or revert waits for the database to settle (the run's signal can end it sooner). */
  maxWaitMs?: number;
}

/** Aurora fails over in ~30 s, a Multi-AZ instance in 1–2 min; ten minutes leaves room and stays inside a Lambda. */
const DEFAULT_POLL_INTERVAL_MS = 5_000;
const DEFAULT_MAX_WAIT_MS = 600_000;

/** What revert reads back from `intent.params`. */
interface FailoverParams {
  chaos_type: 'rds_failover';
  kind: RdsTargetKind;
  id: string;
  /** The cluster's writer when prepared (null for an instance). */
  original_writer: string | null;
  /** The instance's primary AZ when prepared (null for a cluster). */
  original_az: string | null;
  fail_back: boolean;
}

/** A cluster or instance as this fault looks at it. */
interface DbState {
  found: boolean;
  status: string | null;
  /** Cluster: the member with IsClusterWriter. Instance: the instance itself. */
  writer: string | null;
  members: { id: string; writer: boolean }[];
  /** Instance only: the primary's AZ, which moves to the standby's on failover. */
  az: string | null;
}

export function createRdsFailover({ pollIntervalMs = DEFAULT_POLL_INTERVAL_MS, maxWaitMs = DEFAULT_MAX_WAIT_MS }: RdsFailoverOptions = {}): AwsFault {
  const wait = <T>(read: () => Promise<T>, done: (value: T) => boolean, signal: AbortSignal) => waitFor(read, done, signal, pollIntervalMs, maxWaitMs);

  return {
    async resolve(awsSpec, clients, signal) {
      const spec = awsSpec as RdsFailoverSpec;
      const { target, parameters } = spec;
      const { rds } = clients(target.region, target.role_arn);
      const targetInstance = parameters.target_db_instance_identifier;
      const base = { region: target.region, role_arn: target.role_arn };

      if (target.db_instance_identifier !== undefined) {
        const field = 'target.db_instance_identifier';
        const id = target.db_instance_identifier;
        if (targetInstance !== undefined) {
          throw invalid('parameters.target_db_instance_identifier', 'applies to DB clusters only; a Multi-AZ instance fails over to its standby');
        }
        const instance = await describeInstance(rds, id, signal);
        if (!instance) throw invalid(field, `no DB instance "${id}"${where(target.region)}`);
        if (instance.DBClusterIdentifier) {
          throw invalid(field, `"${id}" is a member of DB cluster "${instance.DBClusterIdentifier}"; target the cluster with db_cluster_identifier`);
        }
        if (!instance.MultiAZ) throw invalid(field, `"${id}" is a Single-AZ instance and cannot fail over; only Multi-AZ instances can: make it Multi-AZ (aws rds modify-db-instance --multi-az), or name its DB cluster in target.db_cluster_identifier`);
        if (instance.DBInstanceStatus !== 'available') return [];
        return [targetRef(id, tagsOf(instance.TagList), { ...base, kind: 'instance' })];
      }

      let clusters: DBCluster[];
      if (target.db_cluster_identifier !== undefined) {
        const field = 'target.db_cluster_identifier';
        const id = target.db_cluster_identifier;
        const cluster = await describeCluster(rds, id, signal);
        if (!cluster) throw invalid(field, `no DB cluster "${id}"${where(target.region)}`);
        const members = cluster.DBClusterMembers ?? [];
        if (members.length < 2) throw invalid(field, `DB cluster "${id}" has ${members.length} instance(s); a failover needs a second one to promote`);
        if (targetInstance !== undefined) {
          const member = members.find((m) => m.DBInstanceIdentifier === targetInstance);
          if (!member) throw invalid('parameters.target_db_instance_identifier', `"${targetInstance}" is not a member of DB cluster "${id}"`);
          if (member.IsClusterWriter) throw invalid('parameters.target_db_instance_identifier', `"${targetInstance}" is already the writer of DB cluster "${id}"`);
        }
        clusters = [cluster];
      } else {
        const wanted = Object.entries(target.tags ?? {});
        clusters = (await listClusters(rds, signal)).filter((cluster) => {
          const tags = tagsOf(cluster.TagList);
          const members = cluster.DBClusterMembers ?? [];
          return (
            wanted.every(([key, value]) => tags[key] === value) &&
            members.length >= 2 &&
            (targetInstance === undefined || members.some((m) => m.DBInstanceIdentifier === targetInstance && !m.IsClusterWriter))
          );
        });
      }
      return clusters
        .filter((cluster) => cluster.Status === 'available')
        .map((cluster) =>
          targetRef(cluster.DBClusterIdentifier ?? '', tagsOf(cluster.TagList), { ...base, kind: 'cluster', writer: clusterState(cluster).writer }),
        );
    },

    async prepare(_spec, target, clients, signal) {
      const spec = _spec as RdsFailoverSpec;
      const kind = kindOf(target);
      const { rds } = rdsFor(clients, target);
      const state = await readState(rds, kind, target.id, signal);
      if (!state.found) throw new Error(`DB ${kind} "${target.id}" disappeared before the failover was prepared`);
      const params: FailoverParams = {
        chaos_type: 'rds_failover',
        kind,
        id: target.id,
        original_writer: kind === 'cluster' ? state.writer : null,
        original_az: kind === 'instance' ? state.az : null,
        fail_back: spec.parameters.fail_back,
      };
      return {
        provider: 'aws',
        action: RDS_FAILOVER_ACTION,
        target,
        params: { ...params },
        snapshot: stateJson(state),
      };
    },

    async apply(_spec, intent, clients, context): Promise<JsonObject> {
      const spec = _spec as RdsFailoverSpec;
      const { kind, id } = paramsOf(intent);
      const { rds } = rdsFor(clients, intent.target);
      const read = () => readState(rds, kind, id, context.signal);
      const before = await read();

      if (kind === 'cluster') {
        const targetInstance = spec.parameters.target_db_instance_identifier;
        await rds.send(
          new FailoverDBClusterCommand({ DBClusterIdentifier: id, ...(targetInstance ? { TargetDBInstanceIdentifier: targetInstance } : {}) }),
          { abortSignal: context.signal },
        );
        const { value: after, settled } = await wait(read, (s) => s.writer !== before.writer && s.status === 'available', context.signal);
        return {
          kind,
          id,
          call: 'FailoverDBCluster',
          target_db_instance_identifier: targetInstance ?? null,
          writer_before: before.writer,
          writer_after: after.writer,
          writer_changed: after.writer !== before.writer,
          status: after.status,
          settled,
        };
      }

      const { DBInstance: rebooted } = await rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: id, ForceFailover: true }), {
        abortSignal: context.signal,
      });
      // The reboot's answer already shows `rebooting`; once the instance says `available` again the failover is over.
      // (An answer that still says `available` means there is nothing to wait for.)
      const { value: after, settled } = await wait(read, (s) => s.status === 'available', context.signal);
      return {
        kind,
        id,
        call: 'RebootDBInstance',
        force_failover: true,
        status_after_call: rebooted?.DBInstanceStatus ?? null,
        az_before: before.az,
        az_after: after.az,
        az_changed: after.az !== before.az,
        status: after.status,
        settled,
      };
    },

    async revert(intent, clients, context) {
      const params = paramsOf(intent);
      const { kind, id, fail_back: failBack } = params;
      const { rds } = rdsFor(clients, intent.target);
      const read = () => readState(rds, kind, id, context.signal);
      const result = (extra: JsonObject): JsonObject => ({ kind, id, fail_back: failBack, not_reversible: !failBack, ...extra });

      const initial = await read();
      // Deleted since: there is nothing left to fail back or to wait for.
      if (!initial.found) return result({ found: false, status: null });

      // A failover still in progress must finish before a fail-back can start (AWS refuses it while failing over).
      const ready = await wait(read, (s) => !s.found || s.status === 'available', context.signal);
      if (!ready.value.found) return result({ found: false, status: null });
      if (!ready.settled) throw notSettled(kind, id, ready.value, maxWaitMs);
      const current = ready.value;

      if (failBack && kind === 'cluster' && params.original_writer && current.writer !== params.original_writer) {
        const original = params.original_writer;
        if (!current.members.some((m) => m.id === original)) {
          return result({ ...stateJson(current), failed_back: false, skipped: `the original writer "${original}" is no longer a member of the cluster` });
        }
        await rds.send(new FailoverDBClusterCommand({ DBClusterIdentifier: id, TargetDBInstanceIdentifier: original }), { abortSignal: context.signal });
        const back = await wait(read, (s) => s.writer === original && s.status === 'available', context.signal);
        if (!back.settled) throw notSettled(kind, id, back.value, maxWaitMs, `writer "${original}"`);
        return result({ ...stateJson(back.value), failed_back: true, writer_before: current.writer });
      }

      if (failBack && kind === 'instance' && params.original_az && current.az !== params.original_az) {
        const originalAz = params.original_az;
        // A second forced failover swaps primary and standby again, which puts the primary back in its original AZ.
        await rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: id, ForceFailover: true }), { abortSignal: context.signal });
        const back = await wait(read, (s) => s.az === originalAz && s.status === 'available', context.signal);
        if (!back.settled) throw notSettled(kind, id, back.value, maxWaitMs, `primary in ${originalAz}`);
        return result({ ...stateJson(back.value), failed_back: true, az_before: current.az });
      }

      return result({ ...stateJson(current), failed_back: false });
    },
  };
}

export const rdsFailover: AwsFault = createRdsFailover();

// ---- reading RDS ---------------------------------------------------------------------------------------------------

function rdsFor(clients: AwsClientFactory, target: TargetRef): { rds: RDSClient } {
  const { region, roleArn } = targetLocation(target);
  return clients(region, roleArn);
}

async function describeCluster(rds: RDSClient, id: string, signal: AbortSignal): Promise<DBCluster | undefined> {
  try {
    const { DBClusters = [] } = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }), { abortSignal: signal });
    return DBClusters[0];
  } catch (error) {
    if ((error as Error).name === 'DBClusterNotFoundFault') return undefined;
    throw error;
  }
}

async function describeInstance(rds: RDSClient, id: string, signal: AbortSignal): Promise<DBInstance | undefined> {
  try {
    const { DBInstances = [] } = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), { abortSignal: signal });
    return DBInstances[0];
  } catch (error) {
    if ((error as Error).name === 'DBInstanceNotFoundFault') return undefined;
    throw error;
  }
}

/** DescribeDBClusters has no tag filter; tags come back on each cluster (`TagList`) and are matched here. */
async function listClusters(rds: RDSClient, signal: AbortSignal): Promise<DBCluster[]> {
  const clusters: DBCluster[] = [];
  let marker: string | undefined;
  do {
    const page = await rds.send(new DescribeDBClustersCommand({ ...(marker ? { Marker: marker } : {}) }), { abortSignal: signal });
    clusters.push(...(page.DBClusters ?? []));
    marker = page.Marker;
  } while (marker);
  return clusters;
}

async function readState(rds: RDSClient, kind: RdsTargetKind, id: string, signal: AbortSignal): Promise<DbState> {
  if (kind === 'cluster') {
    const cluster = await describeCluster(rds, id, signal);
    return cluster ? clusterState(cluster) : missing;
  }
  const instance = await describeInstance(rds, id, signal);
  if (!instance) return missing;
  return { found: true, status: instance.DBInstanceStatus ?? null, writer: id, members: [{ id, writer: true }], az: instance.AvailabilityZone ?? null };
}

const missing: DbState = { found: false, status: null, writer: null, members: [], az: null };

function clusterState(cluster: DBCluster): DbState {
  const members = (cluster.DBClusterMembers ?? []).map((m) => ({ id: m.DBInstanceIdentifier ?? '', writer: m.IsClusterWriter === true }));
  return { found: true, status: cluster.Status ?? null, writer: members.find((m) => m.writer)?.id ?? null, members, az: null };
}

function stateJson(state: DbState): JsonObject {
  return {
    status: state.status,
    writer: state.writer,
    members: state.members.map((m) => ({ id: m.id, writer: m.writer })),
    ...(state.az !== null ? { availability_zone: state.az } : {}),
  };
}

// ---- helpers -------------------------------------------------------------------------------------------------------

function targetRef(id: string, labels: Record<string, string>, details: { region?: string; role_arn?: string; kind: RdsTargetKind; writer?: string | null }): TargetRef {
  const json: JsonObject = { kind: details.kind };
  if (details.region !== undefined) json.region = details.region;
  if (details.role_arn !== undefined) json.role_arn = details.role_arn;
  if (details.kind === 'cluster') json.writer = details.writer ?? null;
  return { provider: 'aws', id, labels, details: json };
}

function kindOf(target: TargetRef): RdsTargetKind {
  const kind = target.details.kind;
  if (kind !== 'cluster' && kind !== 'instance') throw new Error(`rds_failover target ${target.id} has no kind (cluster or instance) in its details`);
  return kind;
}

function paramsOf(intent: RollbackIntent): FailoverParams {
  const p = intent.params as Partial<Record<keyof FailoverParams, JsonValue>>;
  const kind = p.kind === 'cluster' || p.kind === 'instance' ? p.kind : kindOf(intent.target);
  return {
    chaos_type: 'rds_failover',
    kind,
    id: typeof p.id === 'string' ? p.id : intent.target.id,
    original_writer: typeof p.original_writer === 'string' ? p.original_writer : null,
    original_az: typeof p.original_az === 'string' ? p.original_az : null,
    fail_back: p.fail_back === true,
  };
}

const tagsOf = (tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => !!t.Key).map((t) => [t.Key as string, t.Value ?? '']));

const invalid = (field: string, message: string) => new ValidationError([{ field, message }]);
const where = (region: string | undefined) => (region ? ` in ${region}` : '');

function notSettled(kind: RdsTargetKind, id: string, state: DbState, maxWaitMs: number, wanted?: string): Error {
  const want = wanted ? `${wanted} and available` : 'available';
  return new Error(`DB ${kind} "${id}" was not ${want} within ${maxWaitMs / 1000}s (status ${state.status ?? 'unknown'}, writer ${state.writer ?? 'none'})`);
}

/** Reads until `done`, the bound or the signal; the last reading says where it got to. */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, signal: AbortSignal, pollIntervalMs: number, maxWaitMs: number) {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const value = await read();
    if (done(value)) return { value, settled: true };
    const left = deadline - Date.now();
    if (left <= 0 || signal.aborted) return { value, settled: false };
    await sleep(Math.min(pollIntervalMs, left), signal);
    if (signal.aborted) return { value, settled: false };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
