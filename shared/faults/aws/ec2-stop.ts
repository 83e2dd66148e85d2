/**
 * `ec2_stop`: stop EC2 instances and start them again, as AWS FIS `aws:ec2:stop-instances` does.
 *
 *   resolve  instances named by `instance_ids` (an unknown id is a ValidationError at `target.instance_ids[i]`), or
 *            matching `tags` + `filters` (EC2 filters); only `running` instances are eligible.
 *   prepare  snapshot (state, type, tags, DisableApiStop) and the rollback `start_instances`; refuses an instance
 *            with stop protection on. Changes nothing.
 *   apply    StopInstances (`Force` per `parameters.force`).
 *   revert   starts the instance if it is stopped (or stopping), then waits until it is `running`. Idempotent.
 *
 * `start_after_seconds` (FIS's `startInstancesAfterDuration`): there is no AWS-side timer reachable through the
 * EC2/RDS/CloudWatch clients that can start an instance (CloudWatch alarm actions only stop, terminate, reboot or
 * recover), and a local timer does not survive the process that set it (in Lambda, INJECT returns right after
 * apply and the timer is frozen with the sandbox). So the deadline is made durable on the instance itself: apply
 * tags it `chaosduck:start-after=<ISO time>` before stopping it, and `startIfDue` — idempotent, callable from any
 * process at any time, e.g. every OBSERVE tick or the recovery sweep — starts it once the deadline has passed. The
 * rollback starts it in any case, so the fault never outlives the experiment's rollback.
 */
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type EC2Client,
  type Filter,
  type Instance,
  type InstanceStateName,
} from '@aws-sdk/client-ec2';
import type { FaultContext, RollbackIntent, TargetRef } from '../driver.js';
import { asJson, type JsonObject } from '../../journal/activity.js';
import { InjectionFailedError, ValidationError } from '../../errors.js';
import type { AwsClientFactory } from './clients.js';
import type { AwsFault, AwsSpec } from './fault.js';
import { pollUntil } from '../poll.js';
import { awsErrorCode, awsTargetRef, locationOf, selectorFilters, tagsToRecord, unknownIdsError } from './targets.js';

export type Ec2StopSpec = Extract<AwsSpec, { chaos_type: 'ec2_stop' }>;

export const EC2_STOP_ACTION = 'start_instances';
/** Tag holding the time (ISO 8601, UTC) after which a stopped instance is due to start again. */
export const START_AFTER_TAG = 'chaosduck:start-after';
/** How long revert waits for the instance to be `running` again, unless the intent says otherwise. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 600;
const POLL_INTERVAL_MS = 5_000;
const NOT_FOUND = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

function asEc2Stop(spec: AwsSpec): Ec2StopSpec {
  if (spec.chaos_type !== 'ec2_stop') throw new TypeError(`ec2_stop cannot handle ${spec.chaos_type}`);
  return spec;
}

/** Where an instance came from in the selector, for error messages. */
function fieldOf(spec: Ec2StopSpec, instanceId: string): string {
  const index = spec.target.instance_ids?.indexOf(instanceId) ?? -1;
  return index >= 0 ? `target.instance_ids[${index}]` : 'target.tags';
}

interface Ec2Target {
  ec2: EC2Client;
  instanceId: string;
  region: string | undefined;
  roleArn: string | undefined;
}

function ec2For(target: TargetRef, clients: AwsClientFactory): Ec2Target {
  const { region, roleArn } = locationOf(target);
  return { ec2: clients(region, roleArn).ec2, instanceId: String(target.details.instance_id ?? target.id), region, roleArn };
}

async function describeAll(ec2: EC2Client, input: { InstanceIds?: string[]; Filters?: Filter[] }, signal: AbortSignal): Promise<Instance[]> {
  const instances: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeInstancesCommand({ ...input, NextToken }), { abortSignal: signal });
    for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return instances;
}

/** One instance, or undefined when EC2 no longer knows it (terminated long ago, or never existed). */
async function describeOne(ec2: EC2Client, instanceId: string, signal: AbortSignal): Promise<Instance | undefined> {
  try {
    return (await describeAll(ec2, { InstanceIds: [instanceId] }, signal)).find((i) => i.InstanceId === instanceId);
  } catch (error) {
    if (NOT_FOUND.has(awsErrorCode(error) ?? '')) return undefined;
    throw error;
  }
}

/**
 * Which of `ids` EC2 does not know. EC2 names every unknown id in the NotFound message; moto names only one, so the
 * rest are described again until the call succeeds, falling back to one lookup per id if a message names none.
 */
async function unknownIds(ec2: EC2Client, ids: readonly string[], error: unknown, signal: AbortSignal): Promise<Set<string>> {
  const unknown = new Set<string>();
  for (let failure = error; ; ) {
    const named = new Set((failure instanceof Error ? failure.message : '').match(/i-[0-9a-f]+/g) ?? []);
    const fresh = ids.filter((id) => named.has(id) && !unknown.has(id));
    if (fresh.length === 0) break;
    fresh.forEach((id) => unknown.add(id));
    const rest = ids.filter((id) => !unknown.has(id));
    if (rest.length === 0) return unknown;
    try {
      await describeAll(ec2, { InstanceIds: rest }, signal);
      return unknown;
    } catch (next) {
      if (!NOT_FOUND.has(awsErrorCode(next) ?? '')) throw next;
      failure = next;
    }
  }
  for (const id of ids) if (!unknown.has(id) && !(await describeOne(ec2, id, signal))) unknown.add(id);
  return unknown;
}

const stateOf = (instance: Instance | undefined): InstanceStateName | 'not_found' => instance?.State?.Name ?? 'not_found';

async function resolve(awsSpec: AwsSpec, clients: AwsClientFactory, signal: AbortSignal): Promise<TargetRef[]> {
  const spec = asEc2Stop(awsSpec);
  const { instance_ids: ids, tags, filters, role_arn: roleArn } = spec.target;
  const { ec2 } = clients(spec.target.region, roleArn);
  // The region the clients really use (the control plane's default when the selector names none), so a revert in
  // another process with another default still reaches the same instances.
  const region = await ec2.config.region();
  const narrowing = selectorFilters(tags, filters);
  let instances: Instance[];
  if (ids) {
    try {
      instances = await describeAll(ec2, { InstanceIds: [...ids] }, signal);
    } catch (error) {
      if (!NOT_FOUND.has(awsErrorCode(error) ?? '')) throw error;
      throw unknownIdsError('target.instance_ids', ids, await unknownIds(ec2, ids, error, signal), region);
    }
    // Tags and filters given with ids narrow them down (every id is known, so this cannot fail on a missing one).
    if (narrowing.length > 0) instances = await describeAll(ec2, { InstanceIds: [...ids], Filters: narrowing }, signal);
  } else {
    instances = await describeAll(ec2, { Filters: [...narrowing, { Name: 'instance-state-name', Values: ['running'] }] }, signal);
  }
  return instances
    .filter((instance) => instance.InstanceId && stateOf(instance) === 'running')
    .map((instance) =>
      awsTargetRef(instance.InstanceId as string, { region, role_arn: roleArn }, tagsToRecord(instance.Tags), {
        instance_id: instance.InstanceId as string,
        az: instance.Placement?.AvailabilityZone ?? null,
        state: stateOf(instance),
      }),
    );
}

async function prepare(awsSpec: AwsSpec, target: TargetRef, clients: AwsClientFactory, signal: AbortSignal): Promise<RollbackIntent> {
  const spec = asEc2Stop(awsSpec);
  const { ec2, instanceId, region, roleArn } = ec2For(target, clients);
  const instance = await describeOne(ec2, instanceId, signal);
  if (!instance) throw new ValidationError([{ field: fieldOf(spec, instanceId), message: `${instanceId} no longer exists` }], 'target');
  const state = stateOf(instance);
  if (state !== 'running') {
    // Stopped (or going) between resolve and prepare: stopping it would be a no-op that the rollback then "undoes".
    throw new InjectionFailedError(`${instanceId} is ${state}, not running, since it was selected; nothing was stopped`);
  }
  const { DisableApiStop } = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiStop' }), {
    abortSignal: signal,
  });
  const disableApiStop = DisableApiStop?.Value === true;
  if (disableApiStop) {
    // A ValidationError (400), not InjectionFailedError (500): the experiment as written cannot run until the user
    // picks other instances or turns stop protection off, retrying changes nothing, nothing was applied, and the API
    // shows a 4xx message (with the field) to the user where a 5xx is reduced to a generic one. Dry runs show it too.
    throw new ValidationError(
      [
        {
          field: fieldOf(spec, instanceId),
          message: `instance ${instanceId} has stop protection on (DisableApiStop); choose other instances or turn it off with ModifyInstanceAttribute`,
        },
      ],
      'target',
    );
  }
  const snapshot: JsonObject = {
    instance_id: instanceId,
    state,
    instance_type: instance.InstanceType ?? null,
    az: instance.Placement?.AvailabilityZone ?? null,
    tags: tagsToRecord(instance.Tags),
    disable_api_stop: disableApiStop,
  };
  return {
    provider: target.provider,
    action: EC2_STOP_ACTION,
    target,
    params: {
      chaos_type: 'ec2_stop',
      instance_id: instanceId,
      region: region ?? null,
      role_arn: roleArn ?? null,
      force: spec.parameters.force,
      start_after_seconds: spec.parameters.start_after_seconds ?? null,
      wait_timeout_seconds: DEFAULT_WAIT_TIMEOUT_SECONDS,
    },
    snapshot,
  };
}

async function apply(awsSpec: AwsSpec, intent: RollbackIntent, clients: AwsClientFactory, context: FaultContext) {
  const spec = asEc2Stop(awsSpec);
  const { ec2, instanceId } = ec2For(intent.target, clients);
  const { force, start_after_seconds: startAfter } = spec.parameters;
  let startAfterAt: string | null = null;
  if (startAfter !== undefined) {
    // Written before the stop, so a stopped instance always carries its deadline, whatever happens to this process.
    startAfterAt = new Date(Date.now() + startAfter * 1000).toISOString();
    await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: START_AFTER_TAG, Value: startAfterAt }] }), {
      abortSignal: context.signal,
    });
  }
  const { StoppingInstances = [] } = await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId], Force: force }), {
    abortSignal: context.signal,
  });
  const change = StoppingInstances.find((i) => i.InstanceId === instanceId);
  return {
    stopped: [instanceId],
    instance_id: instanceId,
    previous_state: change?.PreviousState?.Name ?? null,
    current_state: change?.CurrentState?.Name ?? null,
    force,
    start_after: startAfterAt,
  };
}

/** Waits until the instance is `running`; fails at once if it goes to terminated instead. */
async function waitUntilRunning(ec2: EC2Client, instanceId: string, signal: AbortSignal, timeoutMs: number): Promise<InstanceStateName | 'not_found'> {
  let last: InstanceStateName | 'not_found' = 'pending';
  return pollUntil(
    async () => {
      last = stateOf(await describeOne(ec2, instanceId, signal));
      if (last === 'running') return last;
      if (last === 'terminated' || last === 'shutting-down' || last === 'not_found') {
        throw new Error(`${instanceId} went ${last} while it was being started`);
      }
      return undefined;
    },
    { signal, timeoutMs, intervalMs: POLL_INTERVAL_MS, what: `${instanceId} to be running` },
    () => `last state ${last}`,
  );
}

/** Starts the instance if it is stopped, after waiting out `stopping`; returns the state it was found in. */
async function startIfStopped(ec2: EC2Client, instanceId: string, signal: AbortSignal, timeoutMs: number) {
  let state = stateOf(await describeOne(ec2, instanceId, signal));
  const before = state;
  if (state === 'stopping') {
    // StartInstances refuses a stopping instance (IncorrectInstanceState): wait until it has stopped.
    state = await pollUntil(
      async () => {
        const now = stateOf(await describeOne(ec2, instanceId, signal));
        return now === 'stopping' ? undefined : now;
      },
      { signal, timeoutMs, intervalMs: POLL_INTERVAL_MS, what: `${instanceId} to finish stopping` },
    );
  }
  const started = state === 'stopped';
  if (started) await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal: signal });
  return { before, state, started };
}

async function removeStartAfterTag(ec2: EC2Client, instanceId: string, signal: AbortSignal): Promise<void> {
  try {
    await ec2.send(new DeleteTagsCommand({ Resources: [instanceId], Tags: [{ Key: START_AFTER_TAG }] }), { abortSignal: signal });
  } catch (error) {
    if (!NOT_FOUND.has(awsErrorCode(error) ?? '')) throw error;
  }
}

async function revert(intent: RollbackIntent, clients: AwsClientFactory, context: FaultContext) {
  const { ec2, instanceId } = ec2For(intent.target, clients);
  const timeoutMs = Number(intent.params.wait_timeout_seconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS) * 1000;
  const { before, state, started } = await startIfStopped(ec2, instanceId, context.signal, timeoutMs);
  if (state === 'terminated' || state === 'shutting-down' || state === 'not_found') {
    // Terminated under the experiment (often an Auto Scaling group replacing the stopped instance): there is nothing
    // left to start, and retrying the rollback never could. Succeed and say so; the journal keeps the outcome.
    return { instance_id: instanceId, before, after: state, started: false, restored: false, note: `${instanceId} is ${state}; it cannot be started again` };
  }
  const after = await waitUntilRunning(ec2, instanceId, context.signal, timeoutMs);
  if (intent.params.start_after_seconds !== null && intent.params.start_after_seconds !== undefined) {
    await removeStartAfterTag(ec2, instanceId, context.signal);
  }
  return { instance_id: instanceId, before, after, started, restored: true, ...(started ? {} : { note: `${instanceId} was already ${before}` }) };
}

/**
 * Ends the fault early when `start_after_seconds` has passed: starts the instance if its `chaosduck:start-after`
 * deadline is due and it is still stopped, then removes the tag. Does not wait for `running` (revert does).
 * Idempotent and safe from any process at any time: before the deadline, or without the tag, it changes nothing.
 */
export async function startIfDue(intent: RollbackIntent, clients: AwsClientFactory, signal: AbortSignal, now: number = Date.now()) {
  const { ec2, instanceId } = ec2For(intent.target, clients);
  const instance = await describeOne(ec2, instanceId, signal);
  const deadline = tagsToRecord(instance?.Tags)[START_AFTER_TAG];
  if (!instance || deadline === undefined) return { instance_id: instanceId, due: false, started: false, start_after: null };
  if (now < Date.parse(deadline)) return { instance_id: instanceId, due: false, started: false, start_after: deadline };
  const { before, started } = await startIfStopped(ec2, instanceId, signal, DEFAULT_WAIT_TIMEOUT_SECONDS * 1000);
  await removeStartAfterTag(ec2, instanceId, signal);
  return { instance_id: instanceId, due: true, started, before, start_after: deadline };
}

export const ec2Stop: AwsFault = {
  resolve,
  prepare,
  apply,
  revert,
  endEarly: async (intent, clients, context) => {
    const result = await startIfDue(intent, clients, context.signal);
    return result.due ? asJson(result) : undefined;
  },
};
