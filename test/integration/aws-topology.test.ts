/**
 * GET /api/topology/aws against moto server: only what is tagged for chaos is listed, through the same API function
 * and the SDK's own AWS_ENDPOINT_URL support.
 */
import {
  AssociateRouteTableCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateDBClusterCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { awsClientFactory } from '../../shared/faults/aws/clients.js';
import { MOTO_SETUP_TIMEOUT_MS, motoClientConfig, motoSdkEnv, overrideEnv, startMoto, type Moto } from '../support/moto.js';

const TOKEN = 'topology-token';
const chaos = [{ Key: 'chaosduck:target', Value: 'true' }];

describe('AWS topology over the API, against moto', () => {
  let moto: Moto;
  let runtime: LocalRuntime;
  let server: LocalServer;
  let restoreEnv: (() => void) | undefined;

  beforeAll(async () => {
    moto = await startMoto();
    await moto.reset();
    // The SDK's own endpoint setting, as a user pointing the control plane at moto or LocalStack would set it.
    restoreEnv = overrideEnv(motoSdkEnv(moto.endpoint));
    runtime = await LocalRuntime.start({ aws: { clients: awsClientFactory() } });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
  }, MOTO_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
    await moto?.stop();
    restoreEnv?.();
  });

  it('lists the instances, clusters, VPCs, subnets and route tables tagged for chaos, and nothing else', async () => {
    const config = motoClientConfig(moto.endpoint);
    const ec2 = new EC2Client(config);
    const rds = new RDSClient(config);
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: chaos }] }))).Vpc?.VpcId;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.1.0/24', TagSpecifications: [{ ResourceType: 'subnet', Tags: chaos }] }))).Subnet?.SubnetId;
    const other = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.2.0/24' }))).Subnet?.SubnetId;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc, TagSpecifications: [{ ResourceType: 'route-table', Tags: chaos }] }))).RouteTable?.RouteTableId;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnet }));
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 2, MaxCount: 2, SubnetId: subnet, TagSpecifications: [{ ResourceType: 'instance', Tags: chaos }] }));
    await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, SubnetId: other }));
    await rds.send(new CreateDBClusterCommand({ DBClusterIdentifier: 'orders', Engine: 'aurora-postgresql', MasterUsername: 'admin', MasterUserPassword: 'password123', Tags: chaos }));
    await rds.send(new CreateDBClusterCommand({ DBClusterIdentifier: 'untouchable', Engine: 'aurora-postgresql', MasterUsername: 'admin', MasterUserPassword: 'password123' }));

    const response = await fetch(`${server.url}/api/topology/aws`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await response.json()) as Record<string, { [key: string]: unknown }[]>;

    expect(response.status).toBe(200);
    expect(body.instances?.map((i) => i.instance_id).sort()).toEqual((run.Instances ?? []).map((i) => i.InstanceId).sort());
    expect(body.instances?.every((i) => i.state === 'running' && i.subnet_id === subnet)).toBe(true);
    expect(body.db_clusters?.map((c) => c.db_cluster_identifier)).toEqual(['orders']);
    expect(body.vpcs?.map((v) => v.vpc_id)).toEqual([vpc]);
    expect(body.subnets?.map((s) => s.subnet_id)).toEqual([subnet]);
    expect(body.route_tables).toEqual([expect.objectContaining({ route_table_id: table, subnet_ids: [subnet] })]);
    ec2.destroy();
    rds.destroy();
  });

  it('GET /api/topology/steady-state gives the state of each instance and the status of each DB cluster tagged for chaos', async () => {
    const config = motoClientConfig(moto.endpoint);
    const ec2 = new EC2Client(config);
    const rds = new RDSClient(config);
    await rds.send(new CreateDBClusterCommand({ DBClusterIdentifier: 'ledger', Engine: 'aurora-postgresql', MasterUsername: 'admin', MasterUserPassword: 'password123', Tags: chaos }));
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 2, MaxCount: 2, TagSpecifications: [{ ResourceType: 'instance', Tags: [...chaos, { Key: 'tier', Value: 'steady' }] }] }));
    const [stopped, running] = (run.Instances ?? []).map((i) => i.InstanceId as string);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped as string] }));

    const here = await fetch(`${server.url}/api/topology/steady-state`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const elsewhere = await fetch(`${server.url}/api/topology/steady-state?region=eu-west-1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await here.json()) as { aws: { available: boolean; region: string; instances: { instance_id: string; state: string }[]; db_clusters: { db_cluster_identifier: string; status: string }[] }; kubernetes: unknown };
    const other = (await elsewhere.json()) as typeof body;

    expect(here.status).toBe(200);
    expect(body.aws).toMatchObject({ available: true, region: 'us-east-1' });
    const states = Object.fromEntries(body.aws.instances.map((i) => [i.instance_id, i.state]));
    expect([states[stopped as string], states[running as string]]).toEqual(['stopped', 'running']);
    expect(body.aws.db_clusters.find((c) => c.db_cluster_identifier === 'ledger')).toMatchObject({ status: 'available' });
    expect(body.kubernetes).toMatchObject({ available: false, error: { code: 'NOT_CONFIGURED' } });
    expect(other.aws).toEqual({ available: true, tag: 'chaosduck:target=true', region: 'eu-west-1', instances: [], db_clusters: [] });
    ec2.destroy();
    rds.destroy();
  });

  it('names a bad region', async () => {
    const response = await fetch(`${server.url}/api/topology/aws?region=mars`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await response.json()) as { error: { fields: { field: string }[] } };

    expect(response.status).toBe(400);
    expect(body.error.fields.map((f) => f.field)).toEqual(['region']);
  });
});
