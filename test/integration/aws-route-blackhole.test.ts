/**
 * `route_blackhole` against moto server over real HTTP: the network-ACL swap FIS `aws:network:disrupt-connectivity`
 * does, and its rollback, which must leave the VPC exactly as it found it.
 *
 * The fault's clients come from `awsClientFactory` and the SDK's own AWS_ENDPOINT_URL; the test inspects moto with a
 * client of its own. "Exactly as before" is checked on the full DescribeNetworkAcls / DescribeSubnets /
 * DescribeRouteTables output for the VPC. Only one thing is normalised: network-ACL association ids (and with them
 * the order of an ACL's association list). AWS mints a new association id on every ReplaceNetworkAclAssociation, and
 * no API can bring an old one back, so a restored subnet necessarily has a new one — in AWS as in moto. Everything
 * else (which ACL each subnet uses, every entry, tag, route, route-table association) must be identical.
 */
import {
  AssociateRouteTableCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  ReplaceNetworkAclAssociationCommand,
  type NetworkAcl,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.js';
import type { FaultContext, RollbackIntent, TargetRef } from '../../shared/faults/driver.js';
import { awsClientFactory, type AwsClientFactory } from '../../shared/faults/aws/clients.js';
import { createAwsDriver } from '../../shared/faults/aws/driver.js';
import type { AwsSpec } from '../../shared/faults/aws/fault.js';
import { copyEntries, copyTagValue, EXPERIMENT_TAG, routeBlackhole } from '../../shared/faults/aws/route-blackhole.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { MOTO_SETUP_TIMEOUT_MS, motoClientConfig, motoSdkEnv, overrideEnv, startMoto, type Moto } from '../support/moto.js';

const CIDR = '10.9.0.0/16';

let moto: Moto | undefined;
let ec2: EC2Client;
let restoreEnv: (() => void) | undefined;

beforeAll(async () => {
  moto = await startMoto();
  // The SDK's own endpoint setting: the fault's clients reach moto the way they would reach AWS.
  restoreEnv = overrideEnv(motoSdkEnv(moto.endpoint));
  ec2 = new EC2Client(motoClientConfig(moto.endpoint));
}, MOTO_SETUP_TIMEOUT_MS);

afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
  restoreEnv?.();
});

beforeEach(async () => {
  await moto?.reset();
});

// ---- fixture -------------------------------------------------------------------------------------------------------

interface Vpc {
  vpcId: string;
  /** Both on `routeTableId` and on `customAclId`. */
  subnetA: string;
  subnetB: string;
  /** On the main route table (implicitly) and the VPC's default ACL. */
  subnetC: string;
  routeTableId: string;
  mainRouteTableId: string;
  customAclId: string;
  defaultAclId: string;
}

/** A VPC with 3 subnets; A and B on a route table and a custom ACL with a few entries, C left on the defaults. */
async function createVpc(customEntries = defaultCustomEntries): Promise<Vpc> {
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId ?? '';
  const subnet = async (cidr: string, name: string) =>
    (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'Name', Value: name }, { Key: 'tier', Value: name === 'c' ? 'web' : 'db' }] }] }),
      )
    ).Subnet?.SubnetId ?? '';
  const subnetA = await subnet('10.0.1.0/24', 'a');
  const subnetB = await subnet('10.0.2.0/24', 'b');
  const subnetC = await subnet('10.0.3.0/24', 'c');
  const routeTableId = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable?.RouteTableId ?? '';
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetA }));
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetB }));
  const [main] = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] }))).RouteTables ?? [];

  const customAclId =
    (await ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId, TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: 'Name', Value: 'app' }] }] }))).NetworkAcl?.NetworkAclId ?? '';
  for (const entry of customEntries) await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: customAclId, ...entry }));
  const [defaultAcl] = (await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'default', Values: ['true'] }] }))).NetworkAcls ?? [];
  for (const subnetId of [subnetA, subnetB]) {
    const association = defaultAcl?.Associations?.find((a) => a.SubnetId === subnetId)?.NetworkAclAssociationId;
    await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: association, NetworkAclId: customAclId }));
  }
  return { vpcId, subnetA, subnetB, subnetC, routeTableId, mainRouteTableId: main?.RouteTableId ?? '', customAclId, defaultAclId: defaultAcl?.NetworkAclId ?? '' };
}

const defaultCustomEntries = [
  { RuleNumber: 100, Egress: false, Protocol: '6', RuleAction: 'allow' as const, CidrBlock: '0.0.0.0/0', PortRange: { From: 443, To: 443 } },
  { RuleNumber: 110, Egress: false, Protocol: '-1', RuleAction: 'allow' as const, CidrBlock: '10.0.0.0/16' },
  { RuleNumber: 120, Egress: false, Protocol: '-1', RuleAction: 'deny' as const, CidrBlock: '192.168.0.0/16' },
  { RuleNumber: 100, Egress: true, Protocol: '-1', RuleAction: 'allow' as const, CidrBlock: '0.0.0.0/0' },
];

/** Everything the fault could touch in the VPC, with only association ids normalised (see the header). */
async function vpcState(vpcId: string) {
  const filters = [{ Name: 'vpc-id', Values: [vpcId] }];
  const acls = (await ec2.send(new DescribeNetworkAclsCommand({ Filters: filters }))).NetworkAcls ?? [];
  const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: filters }))).Subnets ?? [];
  const routeTables = (await ec2.send(new DescribeRouteTablesCommand({ Filters: filters }))).RouteTables ?? [];
  return {
    networkAcls: acls.map((acl) => ({
      ...acl,
      Associations: (acl.Associations ?? [])
        .map((a) => ({ ...a, NetworkAclAssociationId: '<association>' }))
        .sort((x, y) => (x.SubnetId ?? '').localeCompare(y.SubnetId ?? '')),
    })),
    subnets,
    routeTables,
  };
}

async function aclOf(subnetId: string): Promise<NetworkAcl> {
  const [acl] = (await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }))).NetworkAcls ?? [];
  if (!acl) throw new Error(`no ACL for ${subnetId}`);
  return acl;
}

async function copiesTagged(tagValue: string): Promise<NetworkAcl[]> {
  return (await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: `tag:${EXPERIMENT_TAG}`, Values: [tagValue] }] }))).NetworkAcls ?? [];
}

/** An ACL's entries as comparable tuples, the implicit rule 32767 left out. */
const entriesOf = (acl: NetworkAcl) =>
  (acl.Entries ?? [])
    .filter((e) => e.RuleNumber !== 32767)
    .map((e) => ({ rule: e.RuleNumber, egress: e.Egress, protocol: e.Protocol, action: e.RuleAction, cidr: e.CidrBlock, ports: e.PortRange ?? null }))
    .sort((a, b) => Number(a.egress) - Number(b.egress) || (a.rule ?? 0) - (b.rule ?? 0));

function spec(target: Record<string, unknown>): AwsSpec {
  return parseExperiment({
    name: 'blackhole',
    chaos_type: 'route_blackhole',
    target,
    parameters: { destination_cidr: CIDR, duration_seconds: 10 },
  }) as AwsSpec;
}

let seq = 0;
function context(experimentId = 'exp-blackhole'): FaultContext {
  return { experimentId, rollbackSeq: ++seq, signal: new AbortController().signal };
}

const signal = () => new AbortController().signal;

// ---- tests ---------------------------------------------------------------------------------------------------------

describe('route_blackhole on moto', () => {
  it('swaps a copy of the ACL with deny entries onto the selected subnet, and revert leaves the VPC exactly as before', async () => {
    const vpc = await createVpc();
    const clients = awsClientFactory();
    const experiment = spec({ subnet_ids: [vpc.subnetA] });
    const before = await vpcState(vpc.vpcId);

    const targets = await routeBlackhole.resolve(experiment, clients, signal());
    expect(targets).toEqual<TargetRef[]>([
      {
        provider: 'aws',
        id: vpc.subnetA,
        labels: { Name: 'a', tier: 'db' },
        details: { subnet_id: vpc.subnetA, vpc_id: vpc.vpcId, original_acl_id: vpc.customAclId, availability_zone: expect.any(String) as string },
      },
    ]);

    const intent = await routeBlackhole.prepare(experiment, targets[0] as TargetRef, clients, signal());
    expect(intent).toMatchObject({
      provider: 'aws',
      action: 'restore_network_acl',
      params: { chaos_type: 'route_blackhole', subnet_id: vpc.subnetA, original_acl_id: vpc.customAclId, destination_cidr: CIDR },
      snapshot: { network_acl_id: vpc.customAclId, subnet_id: vpc.subnetA, vpc_id: vpc.vpcId },
    });
    expect((intent.snapshot.entries as unknown[]).length).toBe(4);
    expect(await vpcState(vpc.vpcId)).toEqual(before); // prepare changed nothing

    const ctx = context();
    const applied = (await routeBlackhole.apply(experiment, intent, clients, ctx)) as { copy_acl_id: string; association: string };

    const copy = await aclOf(vpc.subnetA);
    expect(copy.NetworkAclId).toBe(applied.copy_acl_id);
    expect(copy.NetworkAclId).not.toBe(vpc.customAclId);
    expect(copy.Associations?.find((a) => a.SubnetId === vpc.subnetA)?.NetworkAclAssociationId).toBe(applied.association);
    expect(copy.Tags).toEqual(expect.arrayContaining([{ Key: EXPERIMENT_TAG, Value: copyTagValue(ctx.experimentId, ctx.rollbackSeq) }]));
    // The original entries, plus a deny for the CIDR in each direction at rule 1, ahead of every allow.
    const original = entriesOf(await aclOfId(vpc.customAclId));
    expect(entriesOf(copy)).toEqual(
      [
        ...original,
        { rule: 1, egress: false, protocol: '-1', action: 'deny', cidr: CIDR, ports: null },
        { rule: 1, egress: true, protocol: '-1', action: 'deny', cidr: CIDR, ports: null },
      ].sort((a, b) => Number(a.egress) - Number(b.egress) || (a.rule ?? 0) - (b.rule ?? 0)),
    );
    // The other subnets are untouched, and the original ACL itself was not modified.
    expect((await aclOf(vpc.subnetB)).NetworkAclId).toBe(vpc.customAclId);
    expect((await aclOf(vpc.subnetC)).NetworkAclId).toBe(vpc.defaultAclId);
    expect(entriesOf(await aclOfId(vpc.customAclId))).toEqual(entriesOf(before.networkAcls.find((a) => a.NetworkAclId === vpc.customAclId) as NetworkAcl));

    // Revert from the stored intent alone, in a "new process": fresh clients, a JSON round trip of the intent.
    const stored = JSON.parse(JSON.stringify(intent)) as RollbackIntent;
    const reverted = await routeBlackhole.revert(stored, awsClientFactory(), { ...ctx, signal: signal() });
    expect(reverted).toMatchObject({ restored: 'restored', deleted_copies: [applied.copy_acl_id] });
    expect(await vpcState(vpc.vpcId)).toEqual(before);

    const again = await routeBlackhole.revert(stored, awsClientFactory(), { ...ctx, signal: signal() });
    expect(again).toMatchObject({ restored: 'already_restored', deleted_copies: [] });
    expect(await vpcState(vpc.vpcId)).toEqual(before);
  });

  it('reverting after a crash between creating the copy and swapping it deletes the copy', async () => {
    const vpc = await createVpc();
    const clients = awsClientFactory();
    const experiment = spec({ subnet_ids: [vpc.subnetA] });
    const before = await vpcState(vpc.vpcId);
    const [target] = await routeBlackhole.resolve(experiment, clients, signal());
    const intent = await routeBlackhole.prepare(experiment, target as TargetRef, clients, signal());
    const ctx = context();
    // What apply had done when the process died: a tagged copy with some entries, not yet associated.
    const orphan = (
      await ec2.send(
        new CreateNetworkAclCommand({
          VpcId: vpc.vpcId,
          TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: EXPERIMENT_TAG, Value: copyTagValue(ctx.experimentId, ctx.rollbackSeq) }] }],
        }),
      )
    ).NetworkAcl?.NetworkAclId;
    await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: orphan, RuleNumber: 1, Egress: false, Protocol: '-1', RuleAction: 'deny', CidrBlock: CIDR }));
    // A copy of another experiment (another tag value) is not this revert's business.
    const unrelated = (
      await ec2.send(
        new CreateNetworkAclCommand({ VpcId: vpc.vpcId, TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: EXPERIMENT_TAG, Value: 'exp-other:1' }] }] }),
      )
    ).NetworkAcl?.NetworkAclId;

    const reverted = await routeBlackhole.revert(intent, awsClientFactory(), ctx);

    expect(reverted).toMatchObject({ restored: 'already_restored', deleted_copies: [orphan] });
    expect(await copiesTagged(copyTagValue(ctx.experimentId, ctx.rollbackSeq))).toEqual([]);
    expect((await copiesTagged('exp-other:1')).map((a) => a.NetworkAclId)).toEqual([unrelated]);
    const after = await vpcState(vpc.vpcId);
    expect({ ...after, networkAcls: after.networkAcls.filter((a) => a.NetworkAclId !== unrelated) }).toEqual(before);
  });

  it('reverting a fault that was never applied succeeds and changes nothing', async () => {
    const vpc = await createVpc();
    const clients = awsClientFactory();
    const experiment = spec({ subnet_ids: [vpc.subnetB] });
    const before = await vpcState(vpc.vpcId);
    const [target] = await routeBlackhole.resolve(experiment, clients, signal());
    const intent = await routeBlackhole.prepare(experiment, target as TargetRef, clients, signal());

    await expect(routeBlackhole.revert(intent, clients, context())).resolves.toMatchObject({ restored: 'already_restored', deleted_copies: [] });
    expect(await vpcState(vpc.vpcId)).toEqual(before);
  });

  it('route_table_id resolves the subnets associated with it; the main route table resolves the implicitly associated ones', async () => {
    const vpc = await createVpc();
    const clients = awsClientFactory();

    const ofTable = await routeBlackhole.resolve(spec({ route_table_id: vpc.routeTableId }), clients, signal());
    expect(ofTable.map((t) => t.id)).toEqual([vpc.subnetA, vpc.subnetB].sort());
    expect(ofTable.every((t) => t.details.original_acl_id === vpc.customAclId && t.details.vpc_id === vpc.vpcId)).toBe(true);

    const ofMain = await routeBlackhole.resolve(spec({ route_table_id: vpc.mainRouteTableId }), clients, signal());
    expect(ofMain.map((t) => t.id)).toEqual([vpc.subnetC]);
    expect(ofMain[0]?.details.original_acl_id).toBe(vpc.defaultAclId);

    // Combined with tags, a subnet must match both.
    const tagged = await routeBlackhole.resolve(spec({ route_table_id: vpc.routeTableId, tags: { Name: 'b' } }), clients, signal());
    expect(tagged.map((t) => t.id)).toEqual([vpc.subnetB]);
    const byTags = await routeBlackhole.resolve(spec({ tags: { tier: 'db' } }), clients, signal());
    expect(byTags.map((t) => t.id)).toEqual([vpc.subnetA, vpc.subnetB].sort());

    await expect(routeBlackhole.resolve(spec({ route_table_id: 'rtb-0123456789abcdef0' }), clients, signal())).rejects.toMatchObject({
      name: 'ValidationError',
      issues: [{ field: 'target.route_table_id' }],
    });
  });

  it('blackholes a subnet on the default ACL through route_table_id, and restores it', async () => {
    const vpc = await createVpc();
    const clients = awsClientFactory();
    const experiment = spec({ route_table_id: vpc.mainRouteTableId });
    const before = await vpcState(vpc.vpcId);
    const [target] = await routeBlackhole.resolve(experiment, clients, signal());
    const intent = await routeBlackhole.prepare(experiment, target as TargetRef, clients, signal());
    const ctx = context();

    const first = (await routeBlackhole.apply(experiment, intent, clients, ctx)) as { copy_acl_id: string };
    // Applying again (a retried task) finds its own copy in place and creates no second one.
    await expect(routeBlackhole.apply(experiment, intent, clients, ctx)).resolves.toMatchObject({ copy_acl_id: first.copy_acl_id, already_applied: true });
    expect(await copiesTagged(copyTagValue(ctx.experimentId, ctx.rollbackSeq))).toHaveLength(1);
    const copy = await aclOf(vpc.subnetC);
    expect(copy.NetworkAclId).toBe(first.copy_acl_id);
    expect(copy.IsDefault).toBe(false);
    expect(entriesOf(copy)).toEqual([
      { rule: 1, egress: false, protocol: '-1', action: 'deny', cidr: CIDR, ports: null },
      { rule: 100, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0', ports: null },
      { rule: 1, egress: true, protocol: '-1', action: 'deny', cidr: CIDR, ports: null },
      { rule: 100, egress: true, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0', ports: null },
    ]);

    await routeBlackhole.revert(intent, clients, ctx);
    expect(await vpcState(vpc.vpcId)).toEqual(before);
  });

  it('renumbers the copied entries when the original ACL already uses rule 1', async () => {
    const vpc = await createVpc([
      { RuleNumber: 1, Egress: false, Protocol: '-1', RuleAction: 'allow', CidrBlock: '10.9.1.0/24' },
      { RuleNumber: 50, Egress: false, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' },
      { RuleNumber: 100, Egress: true, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' },
    ]);
    const clients = awsClientFactory();
    const experiment = spec({ subnet_ids: [vpc.subnetA] });
    const before = await vpcState(vpc.vpcId);
    const [target] = await routeBlackhole.resolve(experiment, clients, signal());
    const intent = await routeBlackhole.prepare(experiment, target as TargetRef, clients, signal());
    const ctx = context();

    await routeBlackhole.apply(experiment, intent, clients, ctx);
    expect(entriesOf(await aclOf(vpc.subnetA))).toEqual([
      { rule: 1, egress: false, protocol: '-1', action: 'deny', cidr: CIDR, ports: null },
      { rule: 2, egress: false, protocol: '-1', action: 'allow', cidr: '10.9.1.0/24', ports: null },
      { rule: 3, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0', ports: null },
      { rule: 1, egress: true, protocol: '-1', action: 'deny', cidr: CIDR, ports: null },
      { rule: 100, egress: true, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0', ports: null },
    ]);

    await routeBlackhole.revert(intent, clients, ctx);
    expect(await vpcState(vpc.vpcId)).toEqual(before);
  });

  it('names an unknown subnet id as target.subnet_ids[i] and touches nothing', async () => {
    const vpc = await createVpc();
    const before = await vpcState(vpc.vpcId);
    const unknown = 'subnet-0123456789abcdef0';

    const failure = routeBlackhole.resolve(spec({ subnet_ids: [vpc.subnetA, unknown] }), awsClientFactory(), signal());

    await expect(failure).rejects.toBeInstanceOf(ValidationError);
    await expect(failure).rejects.toMatchObject({ issues: [{ field: 'target.subnet_ids[1]', message: expect.stringContaining(unknown) as string }] });
    expect(await vpcState(vpc.vpcId)).toEqual(before);
  });

  it('runs through createAwsDriver, which routes the revert by intent.params.chaos_type', async () => {
    const vpc = await createVpc();
    const driver = createAwsDriver({ route_blackhole: routeBlackhole }, awsClientFactory());
    const experiment = spec({ subnet_ids: [vpc.subnetA, vpc.subnetB] });
    const before = await vpcState(vpc.vpcId);
    expect(driver.chaosTypes).toEqual(['route_blackhole']);

    const targets = await driver.resolve(experiment, signal());
    expect(targets.map((t) => t.id)).toEqual([vpc.subnetA, vpc.subnetB].sort());
    const entries = [];
    for (const target of targets) {
      const intent = await driver.prepare(experiment, target, signal());
      const ctx = context('exp-driver');
      await driver.apply(experiment, intent, ctx);
      entries.push({ intent, ctx });
    }
    const copies = await Promise.all([vpc.subnetA, vpc.subnetB].map(aclOf));
    expect(new Set(copies.map((c) => c.NetworkAclId)).size).toBe(2); // one copy per subnet, one tag per rollback entry
    expect(copies.every((c) => c.NetworkAclId !== vpc.customAclId)).toBe(true);

    for (const { intent, ctx } of entries.reverse()) await driver.revert(intent, ctx);
    expect(await vpcState(vpc.vpcId)).toEqual(before);
  });
});

describe('copyEntries', () => {
  it('puts the deny pair first and keeps the original numbers when rule 1 is free; drops the implicit 32767', () => {
    const entries = copyEntries(
      [
        { RuleNumber: 32767, Egress: false, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0' },
        { RuleNumber: 100, Egress: false, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' },
      ],
      CIDR,
    );
    expect(entries.map((e) => [e.RuleNumber, e.Egress, e.RuleAction])).toEqual([
      [1, false, 'deny'],
      [100, false, 'allow'],
      [1, true, 'deny'],
    ]);
  });
});

async function aclOfId(aclId: string): Promise<NetworkAcl> {
  const [acl] = (await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [aclId] }))).NetworkAcls ?? [];
  if (!acl) throw new Error(`no ACL ${aclId}`);
  return acl;
}
