/**
 * AWS experiments end to end against moto server: the real state machines and handlers with the `aws` driver,
 * reaching moto through the SDK's own `AWS_ENDPOINT_URL`; and a crash after the network-ACL swap, rolled back by the
 * recovery sweep of the next `chaosduck` start.
 */
import { CreateSubnetCommand, CreateVpcCommand, DescribeInstancesCommand, DescribeNetworkAclsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { NoTargetsError, ValidationError } from '../../shared/errors.js';
import { awsClientFactory } from '../../shared/faults/aws/clients.js';
import { awsDriver } from '../../shared/faults/aws/index.js';
import { runCli, startCli } from '../support/cli.js';
import { MOTO_SETUP_TIMEOUT_MS, motoClientConfig, motoSdkEnv, overrideEnv, startMoto, type Moto } from '../support/moto.js';

const chaos = [{ Key: 'chaosduck:target', Value: 'true' }];

describe('AWS experiments against moto', () => {
  let moto: Moto;
  let ec2: EC2Client;
  let env: Record<string, string>;
  let restoreEnv: (() => void) | undefined;

  beforeAll(async () => {
    moto = await startMoto();
    env = motoSdkEnv(moto.endpoint);
    restoreEnv = overrideEnv(env);
    ec2 = new EC2Client(motoClientConfig(moto.endpoint));
  }, MOTO_SETUP_TIMEOUT_MS);
  beforeEach(() => moto.reset());
  afterAll(async () => {
    ec2?.destroy();
    await moto?.stop();
    restoreEnv?.();
  });

  const states = async (ids: string[]) => {
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    return Object.fromEntries(Reservations.flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId, i.State?.Name]));
  };

  it('ec2_stop through the state machines: one of two tagged instances is stopped during the run and running again after', async () => {
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 2, MaxCount: 2, TagSpecifications: [{ ResourceType: 'instance', Tags: chaos }] }));
    const ids = (run.Instances ?? []).map((i) => i.InstanceId ?? '');
    const runtime = await LocalRuntime.start({ drivers: [awsDriver(awsClientFactory())] });
    try {
      let during: Record<string, string | undefined> = {};
      runtime.bus.subscribe({ type: ['fault.applied'] }, () => void states(ids).then((s) => (during = s)));

      const record = await runtime.run({
        name: 'stop-one',
        chaos_type: 'ec2_stop',
        target: { tags: { 'chaosduck:target': 'true' }, selection: 'COUNT(1)' },
        parameters: { duration_seconds: 1 },
        safety: { max_blast_radius: 0.5, health_check_interval: 1 },
      });

      expect(record.status).toBe('completed');
      expect(Object.values(during).sort()).toEqual(['running', 'stopped']);
      expect(Object.values(await states(ids))).toEqual(['running', 'running']);
      const journal = (await runtime.journal(record.id)) as { rollbacks: { status: string; activity: { provider: { action: string } } }[] };
      expect(journal.rollbacks).toEqual([expect.objectContaining({ status: 'succeeded', activity: expect.objectContaining({ provider: expect.objectContaining({ action: 'start_instances' }) }) })]);
    } finally {
      await runtime.stop();
    }
  });

  it('Chaos Toolkit: chaosaws.ec2.actions.stop_instances runs as ec2_stop, the instance started again by its automatic rollback', async () => {
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }));
    const id = run.Instances?.[0]?.InstanceId ?? '';
    const runtime = await LocalRuntime.start({ drivers: [awsDriver(awsClientFactory())] });
    try {
      let during: Record<string, string | undefined> = {};
      runtime.bus.subscribe({ type: ['activity.completed'] }, () => void states([id]).then((s) => (during = s)));

      const record = await runtime.run({
        format: 'chaostoolkit',
        experiment: {
          title: 'the instance can be stopped',
          description: 'chaosaws names, run natively',
          configuration: { aws_region: process.env.AWS_REGION ?? 'us-east-1' },
          method: [
            { type: 'action', name: 'stop-it', provider: { type: 'python', module: 'chaosaws.ec2.actions', func: 'stop_instances', arguments: { instance_ids: [id], force: true } } },
          ],
        },
      });

      const journal = (await runtime.journal(record.id)) as Record<string, any>;
      expect(record.status, JSON.stringify(journal.chaosduck?.error)).toBe('completed');
      expect([journal.status, journal.deviated]).toEqual(['completed', false]);
      expect(during).toEqual({ [id]: 'stopped' });
      expect(await states([id])).toEqual({ [id]: 'running' });
      expect(journal.run[0]).toMatchObject({ activity: { name: 'stop-it' }, status: 'succeeded' });
      expect(journal.rollbacks).toEqual([expect.objectContaining({ status: 'succeeded', activity: expect.objectContaining({ provider: expect.objectContaining({ action: 'start_instances' }) }) })]);
    } finally {
      await runtime.stop();
    }
  });

  it('ec2_stop with start_after_seconds: OBSERVE starts the instance again once that time has passed, before the rollback', async () => {
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, TagSpecifications: [{ ResourceType: 'instance', Tags: chaos }] }));
    const id = run.Instances?.[0]?.InstanceId ?? '';
    const runtime = await LocalRuntime.start({ drivers: [awsDriver(awsClientFactory())] });
    try {
      const ended = new Promise<{ at: string; running: Record<string, string | undefined> }>((resolve) =>
        runtime.bus.subscribe({ type: ['fault.ended'] }, (event) => void states([id]).then((running) => resolve({ at: event.at, running }))),
      );

      const record = await runtime.run({
        name: 'stop-briefly',
        chaos_type: 'ec2_stop',
        target: { instance_ids: [id] },
        parameters: { start_after_seconds: 1, duration_seconds: 4 },
        safety: { max_blast_radius: 1, health_check_interval: 1 },
      });
      const early = await ended;

      expect(record.status).toBe('completed');
      expect(early.running).toEqual({ [id]: 'running' });
      expect(Date.parse(early.at)).toBeLessThan(Date.parse(record.endedAt ?? ''));
      expect(await states([id])).toEqual({ [id]: 'running' });
    } finally {
      await runtime.stop();
    }
  });

  it('dry run of an AWS experiment plans the targets and the rollback, and stops nothing; a role ARN is assumed', async () => {
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, TagSpecifications: [{ ResourceType: 'instance', Tags: chaos }] }));
    const id = run.Instances?.[0]?.InstanceId ?? '';
    const runtime = await LocalRuntime.start({ drivers: [awsDriver(awsClientFactory())] });
    try {
      const plan = await runtime.dryRun({
        name: 'plan-only',
        chaos_type: 'ec2_stop',
        // moto's STS answers AssumeRole, so this goes through the same credentials path as a cross-account target.
        target: { tags: { 'chaosduck:target': 'true' }, region: 'us-east-1', role_arn: 'arn:aws:iam::123456789012:role/chaosduck-target' },
        safety: { max_blast_radius: 1 },
      });

      expect(plan).toMatchObject({ dry_run: true, targets: [{ id }], rollback: [{ action: 'start_instances', target: id }] });
      expect(await states([id])).toEqual({ [id]: 'running' });
    } finally {
      await runtime.stop();
    }
  });

  it('names a missing region when neither the target nor the environment gives one', async () => {
    const restoreRegion = overrideEnv({ AWS_CONFIG_FILE: '/nonexistent', AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined });
    const runtime = await LocalRuntime.start({ drivers: [awsDriver(awsClientFactory())] });
    try {
      const refused = await runtime.dryRun({ name: 'nowhere', chaos_type: 'ec2_stop', target: { tags: { team: 'a' } }, safety: { max_blast_radius: 1 } }).catch((error: unknown) => error);

      expect(refused).toBeInstanceOf(ValidationError);
      expect((refused as ValidationError).issues.map((i) => i.field)).toEqual(['target.region']);
    } finally {
      restoreRegion();
      await runtime.stop();
    }
  });

  it('bad AWS input is named and nothing is touched: an unknown instance id, a tag that matches nothing', async () => {
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }));
    const id = run.Instances?.[0]?.InstanceId ?? '';
    const runtime = await LocalRuntime.start({ drivers: [awsDriver(awsClientFactory())] });
    try {
      const unknown = await runtime
        .dryRun({ name: 'ghost', chaos_type: 'ec2_stop', target: { instance_ids: [id, 'i-0123456789abcdef0'] }, safety: { max_blast_radius: 1 } })
        .catch((error: unknown) => error);
      const nothing = await runtime
        .run({ name: 'no-match', chaos_type: 'ec2_stop', target: { tags: { team: 'nobody' } }, parameters: { duration_seconds: 0 }, safety: { max_blast_radius: 1 } })
        .catch((error: unknown) => error);

      expect(unknown).toBeInstanceOf(ValidationError);
      expect((unknown as ValidationError).issues.map((i) => i.field)).toEqual(['target.instance_ids[1]']);
      // Refused when submitted: nothing stored, nothing started.
      expect(nothing).toBeInstanceOf(NoTargetsError);
      expect((await runtime.store.listExperiments({})).items).toEqual([]);
      expect(await states([id])).toEqual({ [id]: 'running' });
    } finally {
      await runtime.stop();
    }
  });

  it('a run killed right after the network-ACL swap is rolled back by the next start: subnet back on its ACL, copy deleted', async () => {
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId ?? '';
    const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24' }))).Subnet?.SubnetId ?? '';
    const acls = async () => (await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).NetworkAcls ?? [];
    const aclOf = async (subnet: string) => (await acls()).find((acl) => acl.Associations?.some((a) => a.SubnetId === subnet))?.NetworkAclId;
    const original = await aclOf(subnetId);
    const cwd = mkdtempSync(join(tmpdir(), 'chaosduck-aws-crash-'));
    try {
      const file = join(cwd, 'cut.yaml');
      writeFileSync(
        file,
        [
          'name: cut-the-subnet',
          'chaos_type: route_blackhole',
          `target: {subnet_ids: [${subnetId}]}`,
          'parameters: {destination_cidr: 10.9.0.0/16, duration_seconds: 60}',
          'safety: {timeout_seconds: 120, max_blast_radius: 1}',
        ].join('\n'),
      );
      const run = startCli(['run', file], { cwd, env });
      const output = await run.waitForOutput(/INJECT\s+✓ phase done/);
      const id = /experiment (exp-[\w-]+)/.exec(output)?.[1] ?? '';
      const swapped = await aclOf(subnetId);
      expect(swapped).not.toBe(original);

      run.child.kill('SIGKILL');
      await run.done;
      expect(await aclOf(subnetId)).toBe(swapped);

      const recovery = await runCli(['recover'], { cwd, env });
      expect(recovery.code, recovery.stdout + recovery.stderr).toBe(0);
      expect(await aclOf(subnetId)).toBe(original);
      expect((await acls()).map((acl) => acl.NetworkAclId)).not.toContain(swapped);
      const journal = JSON.parse((await runCli(['journal', id], { cwd, env })).stdout) as { status: string; chaosduck: { reason: string }; rollbacks: { status: string }[] };
      expect(journal).toMatchObject({ status: 'rolled_back', chaosduck: { reason: 'recovered_after_crash' } });
      expect(journal.rollbacks.map((r) => r.status)).toEqual(['succeeded']);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
