/**
 * `rds_failover` against moto server over real HTTP, with the SDK's own AWS_ENDPOINT_URL support (as a user
 * pointing the control plane at moto or LocalStack would set it).
 *
 * What moto 5.2.5 does and does not model, and so what these tests can show:
 * - FailoverDBCluster really moves IsClusterWriter (to TargetDBInstanceIdentifier, or to the first available reader)
 *   and the cluster stays `available` throughout: there is no `failing-over` phase, so the waits finish at once.
 * - A new cluster reports `creating` on its first DescribeDBClusters and `available` from then on; `settle` reads it
 *   once so the tests start from an available cluster.
 * - RebootDBInstance ignores ForceFailover: the instance stays `available` in the same AvailabilityZone, so the
 *   Multi-AZ instance path can show the call and the verification, not a primary moving to the standby's AZ.
 */
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  StopDBClusterCommand,
} from '@aws-sdk/client-rds';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.js';
import { awsClientFactory, type AwsClientFactory } from '../../shared/faults/aws/clients.js';
import { createAwsDriver } from '../../shared/faults/aws/driver.js';
import type { AwsSpec } from '../../shared/faults/aws/fault.js';
import { createRdsFailover, rdsFailover, RDS_FAILOVER_ACTION } from '../../shared/faults/aws/rds-failover.js';
import type { FaultContext, RollbackIntent } from '../../shared/faults/driver.js';
import type { ExperimentInput } from '../../shared/model/experiment.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { MOTO_SETUP_TIMEOUT_MS, motoClientConfig, motoSdkEnv, overrideEnv, startMoto, type Moto } from '../support/moto.js';

const ENGINE = 'aurora-postgresql';
const never = new AbortController().signal;
const context = (rollbackSeq = 1): FaultContext => ({ experimentId: 'exp-rds', rollbackSeq, signal: never });

let moto: Moto;
let rds: RDSClient;
let clients: AwsClientFactory;
let restoreEnv: (() => void) | undefined;

beforeAll(async () => {
  moto = await startMoto();
  restoreEnv = overrideEnv(motoSdkEnv(moto.endpoint));
  rds = new RDSClient(motoClientConfig(moto.endpoint));
}, MOTO_SETUP_TIMEOUT_MS);

afterAll(async () => {
  rds?.destroy();
  await moto?.stop();
  restoreEnv?.();
});

beforeEach(async () => {
  await moto.reset();
  clients = awsClientFactory();
});

// ---- fixtures --------------------------------------------------------------------------------------------------------

function spec(target: Record<string, unknown>, parameters: Record<string, unknown> = {}): AwsSpec {
  return parseExperiment({ name: 'rds failover', chaos_type: 'rds_failover', target, parameters } satisfies ExperimentInput) as AwsSpec;
}

/** An Aurora cluster whose first instance is the writer, read once so moto reports it `available`. */
async function createCluster(id: string, instances: number, tags: Record<string, string> = {}): Promise<string[]> {
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: id,
      Engine: ENGINE,
      MasterUsername: 'admin',
      MasterUserPassword: 'password123',
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  const ids = Array.from({ length: instances }, (_, i) => `${id}-${i + 1}`);
  for (const instance of ids) {
    await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: instance, DBClusterIdentifier: id, Engine: ENGINE, DBInstanceClass: 'db.r6g.large' }));
  }
  await describeCluster(id); // moto: `creating` on the first read, `available` after
  return ids;
}

async function describeCluster(id: string) {
  const { DBClusters = [] } = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
  const cluster = DBClusters[0];
  if (!cluster) throw new Error(`no cluster ${id}`);
  return { status: cluster.Status, writer: cluster.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier };
}

async function createInstance(id: string, multiAz: boolean) {
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      Engine: 'postgres',
      DBInstanceClass: 'db.m5.large',
      AllocatedStorage: 20,
      MasterUsername: 'admin',
      MasterUserPassword: 'password123',
      MultiAZ: multiAz,
    }),
  );
}

async function describeInstance(id: string) {
  const { DBInstances = [] } = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  return DBInstances[0];
}

/** Resolve one target and prepare it, as the lifecycle does before writing the rollback entry. */
async function prepared(s: AwsSpec) {
  const targets = await rdsFailover.resolve(s, clients, never);
  expect(targets).toHaveLength(1);
  return rdsFailover.prepare(s, targets[0]!, clients, never);
}

async function validationIssues(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).issues;
}

// ---- clusters ----------------------------------------------------------------------------------------------------------

describe('rds_failover on an Aurora cluster', () => {
  it('resolves the cluster with its writer, prepares without touching it, and the failover moves the writer', async () => {
    await createCluster('orders', 2, { team: 'payments' });
    const s = spec({ db_cluster_identifier: 'orders', region: 'us-east-1' });

    const targets = await rdsFailover.resolve(s, clients, never);
    expect(targets).toEqual([
      { provider: 'aws', id: 'orders', labels: { team: 'payments' }, details: { kind: 'cluster', region: 'us-east-1', writer: 'orders-1' } },
    ]);

    const intent = await rdsFailover.prepare(s, targets[0]!, clients, never);
    expect(intent).toEqual({
      provider: 'aws',
      action: RDS_FAILOVER_ACTION,
      target: targets[0],
      params: { chaos_type: 'rds_failover', kind: 'cluster', id: 'orders', original_writer: 'orders-1', original_az: null, fail_back: false },
      snapshot: {
        status: 'available',
        writer: 'orders-1',
        members: [
          { id: 'orders-1', writer: true },
          { id: 'orders-2', writer: false },
        ],
      },
    });
    expect(await describeCluster('orders')).toEqual({ status: 'available', writer: 'orders-1' }); // prepare changed nothing

    const applied = await rdsFailover.apply(s, intent, clients, context());

    expect(applied).toMatchObject({ kind: 'cluster', id: 'orders', call: 'FailoverDBCluster', writer_before: 'orders-1', writer_after: 'orders-2', writer_changed: true, status: 'available', settled: true });
    expect(await describeCluster('orders')).toEqual({ status: 'available', writer: 'orders-2' });
  });

  it('fails over to target_db_instance_identifier when one is given', async () => {
    await createCluster('orders', 3);
    const s = spec({ db_cluster_identifier: 'orders' }, { target_db_instance_identifier: 'orders-3' });

    const applied = await rdsFailover.apply(s, await prepared(s), clients, context());

    expect(applied).toMatchObject({ target_db_instance_identifier: 'orders-3', writer_before: 'orders-1', writer_after: 'orders-3' });
    expect((await describeCluster('orders')).writer).toBe('orders-3');
  });

  it('with fail_back, the revert fails back to the original writer; reverting again changes nothing', async () => {
    await createCluster('orders', 3);
    const s = spec({ db_cluster_identifier: 'orders' }, { fail_back: true, target_db_instance_identifier: 'orders-3' });
    const intent = await prepared(s);
    await rdsFailover.apply(s, intent, clients, context());
    expect((await describeCluster('orders')).writer).toBe('orders-3');

    const reverted = await rdsFailover.revert(intent, clients, context());

    expect(reverted).toMatchObject({ kind: 'cluster', id: 'orders', fail_back: true, not_reversible: false, failed_back: true, writer_before: 'orders-3', writer: 'orders-1', status: 'available' });
    expect(await describeCluster('orders')).toEqual({ status: 'available', writer: 'orders-1' });

    const again = await rdsFailover.revert(intent, clients, context());
    expect(again).toMatchObject({ failed_back: false, not_reversible: false, writer: 'orders-1', status: 'available' });
    expect(await describeCluster('orders')).toEqual({ status: 'available', writer: 'orders-1' });
  });

  it('without fail_back, the revert records that a failover is not reversible and verifies the cluster is available', async () => {
    await createCluster('orders', 2);
    const s = spec({ db_cluster_identifier: 'orders' });
    const intent = await prepared(s);
    await rdsFailover.apply(s, intent, clients, context());

    const reverted = await rdsFailover.revert(intent, clients, context());

    expect(reverted).toMatchObject({ kind: 'cluster', id: 'orders', fail_back: false, not_reversible: true, failed_back: false, status: 'available', writer: 'orders-2' });
    expect(await describeCluster('orders')).toEqual({ status: 'available', writer: 'orders-2' }); // left where the failover put it
    expect(await rdsFailover.revert(intent, clients, context())).toEqual(reverted);
  });

  it('reverts from the stored entry alone, in a fresh process, including an entry that was never applied', async () => {
    await createCluster('orders', 2);
    const s = spec({ db_cluster_identifier: 'orders' }, { fail_back: true });
    const stored = JSON.parse(JSON.stringify(await prepared(s))) as RollbackIntent;
    const fresh = awsClientFactory();

    // Crashed between writing the entry and applying: nothing to fail back.
    expect(await rdsFailover.revert(stored, fresh, context())).toMatchObject({ failed_back: false, writer: 'orders-1', status: 'available' });

    await rdsFailover.apply(s, stored, clients, context());
    expect(await createRdsFailover().revert(stored, fresh, context())).toMatchObject({ failed_back: true, writer: 'orders-1' });
    expect((await describeCluster('orders')).writer).toBe('orders-1');
  });

  it('fails the revert when the cluster does not become available within the bound', async () => {
    await createCluster('orders', 2);
    const s = spec({ db_cluster_identifier: 'orders' });
    const intent = await prepared(s);
    await rds.send(new StopDBClusterCommand({ DBClusterIdentifier: 'orders' }));
    const impatient = createRdsFailover({ pollIntervalMs: 20, maxWaitMs: 200 });

    await expect(impatient.revert(intent, clients, context())).rejects.toThrow(/DB cluster "orders" was not available within 0.2s \(status stopped/);
    // The run's signal bounds the wait too.
    const aborted = AbortSignal.abort();
    await expect(createRdsFailover({ maxWaitMs: 60_000 }).revert(intent, clients, { ...context(), signal: aborted })).rejects.toThrow();
  });

  it('treats a cluster deleted since as nothing left to revert', async () => {
    await createCluster('orders', 2);
    const s = spec({ db_cluster_identifier: 'orders' }, { fail_back: true });
    const intent = await prepared(s);
    for (const id of ['orders-1', 'orders-2']) await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true }));
    await rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: 'orders', SkipFinalSnapshot: true }));

    expect(await rdsFailover.revert(intent, clients, context())).toMatchObject({ kind: 'cluster', id: 'orders', found: false });
  });

  it('rejects an unknown cluster as a ValidationError naming target.db_cluster_identifier, touching nothing', async () => {
    await createCluster('orders', 2);

    const issues = await validationIssues(rdsFailover.resolve(spec({ db_cluster_identifier: 'nope' }), clients, never));

    expect(issues).toEqual([{ field: 'target.db_cluster_identifier', message: expect.stringContaining('"nope"') }]);
    expect(await describeCluster('orders')).toEqual({ status: 'available', writer: 'orders-1' });
  });

  it('rejects a cluster with nothing to promote and a target instance that is not a reader of the cluster', async () => {
    await createCluster('solo', 1);
    await createCluster('orders', 2);

    expect(await validationIssues(rdsFailover.resolve(spec({ db_cluster_identifier: 'solo' }), clients, never))).toEqual([
      { field: 'target.db_cluster_identifier', message: expect.stringContaining('1 instance') },
    ]);
    for (const [instance, why] of [
      ['solo-1', 'not a member'],
      ['orders-1', 'already the writer'],
    ] as const) {
      const s = spec({ db_cluster_identifier: 'orders' }, { target_db_instance_identifier: instance });
      expect(await validationIssues(rdsFailover.resolve(s, clients, never))).toEqual([
        { field: 'parameters.target_db_instance_identifier', message: expect.stringContaining(why) },
      ]);
    }
    expect(await describeCluster('orders')).toEqual({ status: 'available', writer: 'orders-1' });
  });

  it('by tags, resolves only the matching clusters that are available and have a reader', async () => {
    await createCluster('orders', 2, { team: 'payments' });
    await createCluster('ledger', 2, { team: 'payments' });
    await createCluster('stopped', 2, { team: 'payments' });
    await createCluster('single', 1, { team: 'payments' });
    await createCluster('search', 2, { team: 'discovery' });
    await rds.send(new StopDBClusterCommand({ DBClusterIdentifier: 'stopped' }));

    const targets = await rdsFailover.resolve(spec({ tags: { team: 'payments' } }), clients, never);

    expect(targets.map((t) => t.id).sort()).toEqual(['ledger', 'orders']);
    expect(targets.every((t) => t.details.kind === 'cluster' && t.labels.team === 'payments')).toBe(true);
    // An explicitly named cluster that is not available is not eligible either (the guardrails then find no targets).
    expect(await rdsFailover.resolve(spec({ db_cluster_identifier: 'stopped' }), clients, never)).toEqual([]);
  });
});

// ---- Multi-AZ instances ----------------------------------------------------------------------------------------------

describe('rds_failover on a DB instance', () => {
  it('reboots a Multi-AZ instance with ForceFailover and verifies it is available on revert', async () => {
    await createInstance('billing', true);
    const s = spec({ db_instance_identifier: 'billing' });

    const targets = await rdsFailover.resolve(s, clients, never);
    expect(targets).toEqual([{ provider: 'aws', id: 'billing', labels: {}, details: { kind: 'instance' } }]);
    const intent = await rdsFailover.prepare(s, targets[0]!, clients, never);
    const az = (await describeInstance('billing'))?.AvailabilityZone;
    expect(intent.params).toEqual({ chaos_type: 'rds_failover', kind: 'instance', id: 'billing', original_writer: null, original_az: az, fail_back: false });

    const applied = await rdsFailover.apply(s, intent, clients, context());
    // moto answers RebootDBInstance but ignores ForceFailover: still available, same AZ.
    expect(applied).toMatchObject({ kind: 'instance', call: 'RebootDBInstance', force_failover: true, status: 'available', settled: true, az_before: az, az_after: az });

    const reverted = await rdsFailover.revert(intent, clients, context());
    expect(reverted).toMatchObject({ kind: 'instance', id: 'billing', not_reversible: true, status: 'available', availability_zone: az });
  });

  it('rejects a Single-AZ instance, an unknown one and an Aurora cluster member, each naming the field', async () => {
    await createInstance('single', false);
    await createCluster('orders', 2);

    for (const [id, why] of [
      ['single', 'Single-AZ'],
      ['nope', '"nope"'],
      ['orders-1', 'member of DB cluster "orders"'],
    ] as const) {
      expect(await validationIssues(rdsFailover.resolve(spec({ db_instance_identifier: id }), clients, never))).toEqual([
        { field: 'target.db_instance_identifier', message: expect.stringContaining(why) },
      ]);
    }
    expect((await describeInstance('single'))?.DBInstanceStatus).toBe('available');
  });
});

// ---- through the AWS driver ------------------------------------------------------------------------------------------

describe('rds_failover through createAwsDriver', () => {
  it('runs resolve → prepare → apply → revert, routing the revert by the stored chaos_type', async () => {
    await createCluster('orders', 2);
    const driver = createAwsDriver({ rds_failover: rdsFailover }, clients);
    const s = parseExperiment({ name: 'orders failover', chaos_type: 'rds_failover', target: { db_cluster_identifier: 'orders' }, parameters: { fail_back: true } });
    expect(driver.chaosTypes).toEqual(['rds_failover']);

    const [target] = await driver.resolve(s, never);
    const intent = await driver.prepare(s, target!, never);
    const applied = await driver.apply(s, intent, context());
    expect(applied).toMatchObject({ writer_before: 'orders-1', writer_after: 'orders-2' });
    expect((await describeCluster('orders')).writer).toBe('orders-2');

    const stored = JSON.parse(JSON.stringify(intent)) as RollbackIntent;
    expect(await createAwsDriver({ rds_failover: rdsFailover }).revert(stored, context())).toMatchObject({ failed_back: true, writer: 'orders-1' });
    expect(await describeCluster('orders')).toEqual({ status: 'available', writer: 'orders-1' });
  });
});
