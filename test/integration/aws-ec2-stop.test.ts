/**
 * The `ec2_stop` fault over real HTTP against moto server. The fault's clients come from `awsClientFactory` with
 * `AWS_ENDPOINT_URL` pointing at moto — the route a deployment uses for LocalStack or moto — while the test seeds
 * and inspects instances with its own client.
 *
 * What moto does (checked here, not assumed): StopInstances answers `stopping` (as EC2 does) but the instance is
 * `stopped` at once in DescribeInstances (likewise `pending` → `running` on start), so the waits never really wait, `Force` is accepted and ignored, DisableApiStop is stored by
 * RunInstances, returned by DescribeInstanceAttribute and enforced by StopInstances, and DescribeInstances with
 * an unknown id fails with InvalidInstanceID.NotFound.
 */
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FaultContext, RollbackIntent } from '../../shared/faults/driver.js';
import { awsClientFactory, type AwsClientFactory } from '../../shared/faults/aws/clients.js';
import { createAwsDriver } from '../../shared/faults/aws/driver.js';
import { ec2Stop, START_AFTER_TAG, startIfDue } from '../../shared/faults/aws/ec2-stop.js';
import type { AwsSpec } from '../../shared/faults/aws/fault.js';
import { NoTargetsError, ValidationError } from '../../shared/errors.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { selectTargets } from '../../shared/model/selection.js';
import { MOTO_SETUP_TIMEOUT_MS, motoClientConfig, motoSdkEnv, overrideEnv, startMoto, type Moto } from '../support/moto.js';

const AMI = 'ami-12c6146b'; // one of moto's default images

let moto: Moto | undefined;
let ec2: EC2Client;
let clients: AwsClientFactory;
let restoreEnv: (() => void) | undefined;

beforeAll(async () => {
  moto = await startMoto();
  // The fault's SDK clients find moto the way every SDK client does: through the environment.
  restoreEnv = overrideEnv({ ...motoSdkEnv(moto.endpoint), AWS_MAX_ATTEMPTS: '1' });
  clients = awsClientFactory();
  ec2 = new EC2Client(motoClientConfig(moto.endpoint));
}, MOTO_SETUP_TIMEOUT_MS);

afterAll(async () => {
  ec2?.destroy();
  restoreEnv?.();
  await moto?.stop();
});

beforeEach(async () => {
  await moto?.reset();
});

// ---- helpers -------------------------------------------------------------------------------------------------------

async function launch(count: number, tags: Record<string, string> = {}, extra: { DisableApiStop?: boolean; InstanceType?: 't3.micro' | 't3.small' } = {}): Promise<string[]> {
  const { Instances = [] } = await ec2.send(
    new RunInstancesCommand({
      ImageId: AMI,
      MinCount: count,
      MaxCount: count,
      InstanceType: extra.InstanceType ?? 't3.micro',
      ...(extra.DisableApiStop !== undefined ? { DisableApiStop: extra.DisableApiStop } : {}),
      ...(Object.keys(tags).length > 0
        ? { TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }
        : {}),
    }),
  );
  return Instances.map((i) => i.InstanceId ?? '');
}

async function describe_(ids: string[]): Promise<Map<string, Instance>> {
  const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return new Map(Reservations.flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId ?? '', i]));
}

async function states(ids: string[]): Promise<Record<string, string | undefined>> {
  const instances = await describe_(ids);
  return Object.fromEntries(ids.map((id) => [id, instances.get(id)?.State?.Name]));
}

const allIn = (ids: string[], state: string) => Object.fromEntries(ids.map((id) => [id, state]));

function ec2StopSpec(target: Record<string, unknown>, parameters: Record<string, unknown> = {}, maxBlastRadius = 1): AwsSpec {
  return parseExperiment({
    name: 'ec2-stop-on-moto',
    chaos_type: 'ec2_stop',
    target: { selection: 'ALL', ...target },
    parameters: { duration_seconds: 10, ...parameters },
    safety: { timeout_seconds: 60, max_blast_radius: maxBlastRadius },
  }) as AwsSpec;
}

let seq = 0;
const context = (): FaultContext => ({ experimentId: 'exp-ec2', rollbackSeq: ++seq, signal: AbortSignal.timeout(30_000) });
const signal = () => AbortSignal.timeout(30_000);

// ---- tests ---------------------------------------------------------------------------------------------------------

describe('ec2_stop resolve', () => {
  it('selects only the running instances carrying the tags (and matching the filters), with tags, region and AZ', async () => {
    const payments = await launch(4, { team: 'payments', env: 'staging' });
    const [stoppedOne] = payments;
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stoppedOne ?? ''] }));
    const otherTeam = await launch(2, { team: 'search' });
    const untagged = await launch(1);
    const bigger = await launch(1, { team: 'payments' }, { InstanceType: 't3.small' });

    const targets = await ec2Stop.resolve(ec2StopSpec({ tags: { team: 'payments' } }), clients, signal());

    const running = [...payments.slice(1), ...bigger];
    expect(targets.map((t) => t.id).sort()).toEqual([...running].sort());
    expect(targets.map((t) => t.id)).not.toContain(stoppedOne);
    for (const id of [...otherTeam, ...untagged]) expect(targets.map((t) => t.id)).not.toContain(id);
    const first = targets.find((t) => t.id === payments[1]);
    expect(first).toMatchObject({
      provider: 'aws',
      id: payments[1],
      labels: { team: 'payments', env: 'staging' },
      details: { region: 'us-east-1', role_arn: null, instance_id: payments[1], az: expect.stringMatching(/^us-east-1[a-z]$/), state: 'running' },
    });

    // Filters narrow the tag selection further, as EC2 filters.
    const filtered = await ec2Stop.resolve(
      ec2StopSpec({ tags: { team: 'payments' }, filters: [{ name: 'instance-type', values: ['t3.small'] }] }),
      clients,
      signal(),
    );
    expect(filtered.map((t) => t.id)).toEqual(bigger);
  });

  it('feeds COUNT and PERCENT selection with the running tagged instances only', async () => {
    const tagged = await launch(4, { app: 'checkout' });
    await ec2.send(new StopInstancesCommand({ InstanceIds: [tagged[3] ?? ''] }));
    const candidates = await ec2Stop.resolve(ec2StopSpec({ tags: { app: 'checkout' } }), clients, signal());
    expect(candidates).toHaveLength(3);

    const count = selectTargets(candidates, 'COUNT(2)', 1);
    expect(count).toMatchObject({ matching: 3, requested: 2, capped: false });
    expect(count.selected).toHaveLength(2);
    for (const target of count.selected) expect(tagged.slice(0, 3)).toContain(target.id);

    // PERCENT(50) of 3 rounds to 2; a blast radius of 0.34 caps it at 1.
    expect(selectTargets(candidates, 'PERCENT(50)', 1).selected).toHaveLength(2);
    const capped = selectTargets(candidates, 'PERCENT(50)', 0.34);
    expect(capped).toMatchObject({ requested: 2, allowed: 1, capped: true });
    expect(capped.selected).toHaveLength(1);
  });

  it('does not select an explicitly named instance that is already stopped', async () => {
    const [running = '', stopped = ''] = await launch(2);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));

    const targets = await ec2Stop.resolve(ec2StopSpec({ instance_ids: [running, stopped] }), clients, signal());

    expect(targets.map((t) => t.id)).toEqual([running]);
  });

  it('names an unknown instance id by its field and touches nothing', async () => {
    const [a = '', b = ''] = await launch(2);
    const unknown = 'i-0123456789abcdef0';
    // What moto answers, and what the fault translates.
    await expect(ec2.send(new DescribeInstancesCommand({ InstanceIds: [a, unknown] }))).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });

    const error = await ec2Stop.resolve(ec2StopSpec({ instance_ids: [a, unknown, b] }), clients, signal()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([{ field: 'target.instance_ids[1]', message: `${unknown} does not exist in us-east-1` }]);
    expect(await states([a, b])).toEqual(allIn([a, b], 'running'));

    // moto names only one unknown id per NotFound (EC2 names them all): every one is still reported.
    const second = 'i-0123456789abcdef1';
    const both = await ec2Stop.resolve(ec2StopSpec({ instance_ids: [unknown, a, second] }), clients, signal()).catch((e: unknown) => e);
    expect((both as ValidationError).issues.map((i) => i.field)).toEqual(['target.instance_ids[0]', 'target.instance_ids[2]']);
  });

  it('resolves nothing when no instance carries the tags, and selection then refuses with NoTargetsError', async () => {
    await launch(2, { team: 'payments' });

    const targets = await ec2Stop.resolve(ec2StopSpec({ tags: { team: 'nobody' } }), clients, signal());

    expect(targets).toEqual([]);
    expect(() => selectTargets(targets, 'ALL', 1)).toThrow(NoTargetsError);
  });
});

describe('ec2_stop prepare, apply, revert', () => {
  it('stops the selected instances, leaves the others alone, and starts exactly those again; reverting twice is fine', async () => {
    const tagged = await launch(4, { team: 'payments' });
    const others = await launch(2, { team: 'search' });
    const spec = ec2StopSpec({ tags: { team: 'payments' }, selection: 'COUNT(2)' });
    const { selected } = selectTargets(await ec2Stop.resolve(spec, clients, signal()), spec.target.selection, 1);
    const chosen = selected.map((t) => t.id);
    const spared = tagged.filter((id) => !chosen.includes(id));

    const intents: RollbackIntent[] = [];
    for (const target of selected) intents.push(await ec2Stop.prepare(spec, target, clients, signal()));
    // prepare changes nothing
    expect(await states([...tagged, ...others])).toEqual(allIn([...tagged, ...others], 'running'));
    expect(intents[0]).toMatchObject({
      provider: 'aws',
      action: 'start_instances',
      params: { chaos_type: 'ec2_stop', instance_id: chosen[0], region: 'us-east-1', role_arn: null, force: false, start_after_seconds: null },
      snapshot: { instance_id: chosen[0], state: 'running', instance_type: 't3.micro', tags: { team: 'payments' }, disable_api_stop: false },
    });

    const applied = [];
    for (const intent of intents) applied.push(await ec2Stop.apply(spec, intent, clients, context()));
    expect(applied).toEqual(
      chosen.map((id) => ({ stopped: [id], instance_id: id, previous_state: 'running', current_state: 'stopping', force: false, start_after: null })),
    );
    expect(await states(chosen)).toEqual(allIn(chosen, 'stopped'));
    expect(await states([...spared, ...others])).toEqual(allIn([...spared, ...others], 'running'));

    // The rollback runs from the stored intent alone: JSON round trip, fresh client factory (as in another process).
    const stored = JSON.parse(JSON.stringify(intents)) as RollbackIntent[];
    const elsewhere = awsClientFactory();
    for (const intent of stored) {
      expect(await ec2Stop.revert(intent, elsewhere, context())).toEqual({
        instance_id: intent.target.id,
        before: 'stopped',
        after: 'running',
        started: true,
        restored: true,
      });
    }
    expect(await states([...tagged, ...others])).toEqual(allIn([...tagged, ...others], 'running'));

    // Again: nothing to start, still a success.
    for (const intent of stored) {
      expect(await ec2Stop.revert(intent, elsewhere, context())).toMatchObject({ before: 'running', after: 'running', started: false, restored: true });
    }
    expect(await states([...tagged, ...others])).toEqual(allIn([...tagged, ...others], 'running'));
  });

  it('reverting a fault that was never applied starts nothing', async () => {
    const [id = ''] = await launch(1);
    const spec = ec2StopSpec({ instance_ids: [id] });
    const [target] = await ec2Stop.resolve(spec, clients, signal());
    const intent = await ec2Stop.prepare(spec, target!, clients, signal());

    expect(await ec2Stop.revert(intent, clients, context())).toMatchObject({ before: 'running', after: 'running', started: false });
  });

  it('passes force to StopInstances (moto accepts and ignores it)', async () => {
    const [id = ''] = await launch(1);
    const spec = ec2StopSpec({ instance_ids: [id] }, { force: true });
    const [target] = await ec2Stop.resolve(spec, clients, signal());
    const intent = await ec2Stop.prepare(spec, target!, clients, signal());

    expect(await ec2Stop.apply(spec, intent, clients, context())).toMatchObject({ force: true, current_state: 'stopping' });
    expect(await states([id])).toEqual({ [id]: 'stopped' });
    expect(intent.params.force).toBe(true);
    await ec2Stop.revert(intent, clients, context());
    expect(await states([id])).toEqual({ [id]: 'running' });
  });

  it('refuses an instance with stop protection in prepare, naming it, and stops nothing', async () => {
    const [open = ''] = await launch(1, { team: 'payments' });
    const [guarded = ''] = await launch(1, { team: 'payments' }, { DisableApiStop: true });
    // moto stores, reports and enforces DisableApiStop.
    const attribute = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: guarded, Attribute: 'disableApiStop' }));
    expect(attribute.DisableApiStop?.Value).toBe(true);
    await expect(ec2.send(new StopInstancesCommand({ InstanceIds: [guarded] }))).rejects.toMatchObject({ name: 'OperationNotPermitted' });

    const byId = ec2StopSpec({ instance_ids: [open, guarded] });
    const targets = await ec2Stop.resolve(byId, clients, signal());
    expect(targets.map((t) => t.id).sort()).toEqual([open, guarded].sort());
    const guardedTarget = targets.find((t) => t.id === guarded)!;
    const error = await ec2Stop.prepare(byId, guardedTarget, clients, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { field: 'target.instance_ids[1]', message: expect.stringContaining(`instance ${guarded} has stop protection on (DisableApiStop)`) },
    ]);

    // Selected by tag, the field is the tag selector.
    const byTag = ec2StopSpec({ tags: { team: 'payments' } });
    const tagError = await ec2Stop.prepare(byTag, guardedTarget, clients, signal()).catch((e: unknown) => e);
    expect((tagError as ValidationError).issues[0]?.field).toBe('target.tags');

    expect(await states([open, guarded])).toEqual(allIn([open, guarded], 'running'));
  });

  it('revert succeeds, and says so, when the stopped instance was terminated meanwhile', async () => {
    const [id = ''] = await launch(1);
    const spec = ec2StopSpec({ instance_ids: [id] });
    const [target] = await ec2Stop.resolve(spec, clients, signal());
    const intent = await ec2Stop.prepare(spec, target!, clients, signal());
    await ec2Stop.apply(spec, intent, clients, context());
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));

    expect(await ec2Stop.revert(intent, clients, context())).toMatchObject({ before: 'terminated', after: 'terminated', started: false, restored: false });
    expect(await states([id])).toEqual({ [id]: 'terminated' });
  });

  it('start_after_seconds: tags the deadline before stopping; startIfDue starts the instance only once it is due', async () => {
    const [id = ''] = await launch(1, { team: 'payments' });
    const spec = ec2StopSpec({ instance_ids: [id] }, { start_after_seconds: 5 });
    const [target] = await ec2Stop.resolve(spec, clients, signal());
    const intent = await ec2Stop.prepare(spec, target!, clients, signal());
    expect(intent.params.start_after_seconds).toBe(5);

    const before = Date.now();
    const applied = (await ec2Stop.apply(spec, intent, clients, context())) as { start_after: string };
    const deadline = Date.parse(applied.start_after);
    expect(deadline).toBeGreaterThanOrEqual(before + 5000);
    expect((await describe_([id])).get(id)?.Tags).toContainEqual({ Key: START_AFTER_TAG, Value: applied.start_after });
    expect(await states([id])).toEqual({ [id]: 'stopped' });

    // Not yet due: nothing changes (from any process: it only reads the instance).
    expect(await startIfDue(intent, clients, signal(), deadline - 1)).toMatchObject({ due: false, started: false });
    expect(await states([id])).toEqual({ [id]: 'stopped' });

    // Due: started, deadline tag gone, other tags kept.
    expect(await startIfDue(intent, clients, signal(), deadline)).toMatchObject({ due: true, started: true, before: 'stopped' });
    const after = (await describe_([id])).get(id);
    expect(after?.State?.Name).toBe('running');
    expect(after?.Tags).toEqual([{ Key: 'team', Value: 'payments' }]);
    // Called again (the next tick): nothing left to do.
    expect(await startIfDue(intent, clients, signal(), deadline + 60_000)).toMatchObject({ due: false, started: false });

    // The rollback still runs, finds it running, and succeeds.
    expect(await ec2Stop.revert(intent, clients, context())).toMatchObject({ before: 'running', after: 'running', started: false, restored: true });
  });

  it('revert removes the start-after tag when it starts the instance itself', async () => {
    const [id = ''] = await launch(1);
    const spec = ec2StopSpec({ instance_ids: [id] }, { start_after_seconds: 3600 });
    const [target] = await ec2Stop.resolve(spec, clients, signal());
    const intent = await ec2Stop.prepare(spec, target!, clients, signal());
    await ec2Stop.apply(spec, intent, clients, context());
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'owner', Value: 'sre' }] }));

    expect(await ec2Stop.revert(intent, clients, context())).toMatchObject({ before: 'stopped', after: 'running', started: true });
    expect((await describe_([id])).get(id)?.Tags).toEqual([{ Key: 'owner', Value: 'sre' }]);
  });
});

describe('ec2_stop through createAwsDriver', () => {
  it('resolves, prepares, applies and reverts (routed by intent.params.chaos_type)', async () => {
    const tagged = await launch(3, { app: 'api' });
    const bystander = await launch(1, { app: 'db' });
    const driver = createAwsDriver({ ec2_stop: ec2Stop }, clients);
    expect(driver.chaosTypes).toEqual(['ec2_stop']);
    const spec = ec2StopSpec({ tags: { app: 'api' }, selection: 'PERCENT(34)' });

    const plan = selectTargets(await driver.resolve(spec, signal()), spec.target.selection, spec.safety.max_blast_radius);
    expect(plan).toMatchObject({ matching: 3, requested: 1 });
    const [target] = plan.selected;
    const intent = await driver.prepare(spec, target!, signal());
    await driver.apply(spec, intent, context());
    expect(await states([target!.id])).toEqual({ [target!.id]: 'stopped' });
    const untouched = [...tagged.filter((id) => id !== target!.id), ...bystander];
    expect(await states(untouched)).toEqual(allIn(untouched, 'running'));

    const reverted = await driver.revert(JSON.parse(JSON.stringify(intent)) as RollbackIntent, context());

    expect(reverted).toMatchObject({ instance_id: target!.id, before: 'stopped', after: 'running', started: true });
    expect(await states([...tagged, ...bystander])).toEqual(allIn([...tagged, ...bystander], 'running'));
  });
});
