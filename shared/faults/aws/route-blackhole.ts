/**
 * `route_blackhole`: cut a subnet off from a CIDR, the way FIS `aws:network:disrupt-connectivity` does it.
 *
 * AWS has no API for a blackhole route, so the fault swaps the subnet's network ACL instead:
 *
 *   - prepare (no side effects): snapshot the subnet's current ACL (id, association, entries); the rollback intent
 *     `restore_network_acl` names the subnet and the original ACL.
 *   - apply: create a COPY of that ACL (its entries as they are) plus DENY entries for `destination_cidr` in both
 *     directions, ahead of every copied entry, and swap the copy onto the subnet (ReplaceNetworkAclAssociation).
 *     The copy is created already tagged (TagSpecifications, so there is no moment when it exists untagged) with
 *     `chaosduck:experiment=<experimentId>:<rollbackSeq>`: revert finds it from the intent and the fault context
 *     alone, even when the process died between creating the copy and swapping it in.
 *   - revert (idempotent): if the subnet is on one of the tagged copies, re-associate the original ACL — the
 *     association id is looked up now, since every replace mints a new one — then delete every tagged copy that no
 *     subnet uses any more. Already restored, never applied, copy already gone: all succeed.
 *
 * Rule numbers: the deny entries get rule 1 in each direction, so they are evaluated before anything else. When the
 * original ACL already uses rule 1 in a direction, that direction's copied entries are renumbered 2, 3, … in their
 * original order (same evaluation order, so the same behaviour) — the original ACL itself is never modified. The
 * implicit rule 32767 (`*` deny) that AWS puts on every ACL cannot be created and is not copied: the copy gets its
 * own.
 *
 * Targets are subnets:
 *   - `subnet_ids`: these subnets; an unknown id is a ValidationError naming `target.subnet_ids[i]`.
 *   - `route_table_id`: the subnets explicitly associated with that route table. For the VPC's MAIN route table this
 *     also includes the subnets with no explicit route-table association, since they use the main table implicitly.
 *     An unknown route table is a ValidationError naming `target.route_table_id`.
 *   - `tags`: subnets carrying all of these tags.
 * When several are given, a subnet must match all of them.
 *
 * No dead-man's switch: a network ACL cannot carry its own expiry, so the fault stays until revert runs (the
 * lifecycle's rollback or the recovery sweep).
 */
import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  ReplaceNetworkAclAssociationCommand,
  type EC2Client,
  type Filter,
  type NetworkAcl,
  type NetworkAclEntry,
  type Subnet,
  type Tag,
} from '@aws-sdk/client-ec2';
import type { FaultContext, RollbackIntent, TargetRef } from '../driver.js';
import type { JsonObject } from '../../journal/activity.js';
import { ConflictError, InjectionFailedError, NotFoundError, ValidationError, type FieldIssue } from '../../errors.js';
import type { AwsClientFactory } from './clients.js';
import { targetLocation, type AwsFault, type AwsSpec } from './fault.js';

type RouteBlackholeSpec = Extract<AwsSpec, { chaos_type: 'route_blackhole' }>;

export const ROUTE_BLACKHOLE_ACTION = 'restore_network_acl';
/** Tag on every ACL copy: `<experimentId>:<rollbackSeq>`, what revert searches for. */
export const EXPERIMENT_TAG = 'chaosduck:experiment';
/** Informational tags on the copy, for whoever finds it in the console. */
export const SUBNET_TAG = 'chaosduck:subnet';
export const ORIGINAL_ACL_TAG = 'chaosduck:original-network-acl';

/** The rule number of the deny entries: evaluated first. */
const DENY_RULE = 1;
/** AWS's implicit catch-all deny; present on every ACL, cannot be created. */
const IMPLICIT_DENY_RULE = 32767;
/** EC2 accepts at most 200 values per filter. */
const FILTER_VALUES_MAX = 200;

export function copyTagValue(experimentId: string, rollbackSeq: number): string {
  return `${experimentId}:${rollbackSeq}`;
}

interface Params {
  chaos_type: 'route_blackhole';
  subnet_id: string;
  original_acl_id: string;
  destination_cidr: string;
}

/** The parts of an ACL entry that define it, JSON-safe (no undefined), for the snapshot. */
function entryJson(entry: NetworkAclEntry): JsonObject {
  return {
    rule_number: entry.RuleNumber ?? 0,
    egress: entry.Egress ?? false,
    protocol: entry.Protocol ?? '-1',
    rule_action: entry.RuleAction ?? 'deny',
    ...(entry.CidrBlock !== undefined ? { cidr_block: entry.CidrBlock } : {}),
    ...(entry.Ipv6CidrBlock !== undefined ? { ipv6_cidr_block: entry.Ipv6CidrBlock } : {}),
    ...(entry.PortRange ? { port_range: { from: entry.PortRange.From ?? null, to: entry.PortRange.To ?? null } } : {}),
    ...(entry.IcmpTypeCode ? { icmp_type_code: { type: entry.IcmpTypeCode.Type ?? null, code: entry.IcmpTypeCode.Code ?? null } } : {}),
  };
}

const tagsToLabels = (tags: Tag[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key as string, t.Value ?? '']));

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

function errorCode(error: unknown): string {
  return (error as { name?: string; Code?: string })?.name ?? (error as { Code?: string })?.Code ?? '';
}

// ---- describe helpers (paginated) ---------------------------------------------------------------------------------

async function describeSubnets(ec2: EC2Client, filters: Filter[], signal?: AbortSignal): Promise<Subnet[]> {
  const subnets: Subnet[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeSubnetsCommand({ Filters: filters, NextToken }), { abortSignal: signal });
    subnets.push(...(page.Subnets ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return subnets;
}

async function describeAcls(ec2: EC2Client, filters: Filter[], signal?: AbortSignal): Promise<NetworkAcl[]> {
  const acls: NetworkAcl[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeNetworkAclsCommand({ Filters: filters, NextToken }), { abortSignal: signal });
    acls.push(...(page.NetworkAcls ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return acls;
}

async function describeRouteTables(ec2: EC2Client, filters: Filter[], signal?: AbortSignal) {
  const tables = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeRouteTablesCommand({ Filters: filters, NextToken }), { abortSignal: signal });
    tables.push(...(page.RouteTables ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return tables;
}

/** The ACL a subnet is associated with now (every subnet always has exactly one), and that association's id. */
async function currentAcl(ec2: EC2Client, subnetId: string, signal?: AbortSignal): Promise<{ acl: NetworkAcl; associationId: string } | undefined> {
  const [acl] = await describeAcls(ec2, [{ Name: 'association.subnet-id', Values: [subnetId] }], signal);
  const association = acl?.Associations?.find((a) => a.SubnetId === subnetId);
  if (!acl || !association?.NetworkAclAssociationId) return undefined;
  return { acl, associationId: association.NetworkAclAssociationId };
}

// ---- resolve -------------------------------------------------------------------------------------------------------

async function subnetsOfRouteTable(ec2: EC2Client, routeTableId: string, signal: AbortSignal): Promise<Set<string>> {
  // A filter, not RouteTableIds: an unknown id then comes back as "no table" instead of an error to decode.
  const [table] = await describeRouteTables(ec2, [{ Name: 'route-table-id', Values: [routeTableId] }], signal);
  if (!table) throw new ValidationError([{ field: 'target.route_table_id', message: `route table ${routeTableId} does not exist` }], 'target');
  const associations = table.Associations ?? [];
  const ids = new Set(associations.map((a) => a.SubnetId).filter((id): id is string => id !== undefined));
  if (associations.some((a) => a.Main)) {
    // The main route table also serves, implicitly, every subnet of the VPC that has no explicit association.
    const explicit = new Set(
      (await describeRouteTables(ec2, [{ Name: 'vpc-id', Values: [table.VpcId ?? ''] }], signal)).flatMap((t) =>
        (t.Associations ?? []).map((a) => a.SubnetId).filter((id): id is string => id !== undefined),
      ),
    );
    for (const subnet of await describeSubnets(ec2, [{ Name: 'vpc-id', Values: [table.VpcId ?? ''] }], signal)) {
      if (subnet.SubnetId && !explicit.has(subnet.SubnetId)) ids.add(subnet.SubnetId);
    }
  }
  return ids;
}

async function resolve(spec: RouteBlackholeSpec, clients: AwsClientFactory, signal: AbortSignal): Promise<TargetRef[]> {
  const { region, role_arn: roleArn, subnet_ids: subnetIds, route_table_id: routeTableId, tags } = spec.target;
  const { ec2 } = clients(region, roleArn);

  let subnets: Subnet[];
  if (subnetIds) {
    const found: Subnet[] = [];
    for (const chunk of chunks([...new Set(subnetIds)], FILTER_VALUES_MAX)) {
      found.push(...(await describeSubnets(ec2, [{ Name: 'subnet-id', Values: chunk }], signal)));
    }
    const known = new Set(found.map((s) => s.SubnetId));
    const issues: FieldIssue[] = subnetIds.flatMap((id, i) =>
      known.has(id) ? [] : [{ field: `target.subnet_ids[${i}]`, message: `subnet ${id} does not exist${region ? ` in ${region}` : ''}` }],
    );
    if (issues.length > 0) throw new ValidationError(issues, 'target');
    subnets = found;
  } else {
    const filters: Filter[] = Object.entries(tags ?? {}).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
    if (routeTableId) {
      // Only the route table's subnets (the tag filters, if any, narrow them further).
      const ofTable = [...(await subnetsOfRouteTable(ec2, routeTableId, signal))];
      subnets = [];
      for (const chunk of chunks(ofTable, FILTER_VALUES_MAX)) {
        subnets.push(...(await describeSubnets(ec2, [...filters, { Name: 'subnet-id', Values: chunk }], signal)));
      }
    } else {
      subnets = await describeSubnets(ec2, filters, signal);
    }
  }
  if (routeTableId && subnetIds) {
    const ofTable = await subnetsOfRouteTable(ec2, routeTableId, signal);
    subnets = subnets.filter((s) => s.SubnetId && ofTable.has(s.SubnetId));
  }
  if (tags && subnetIds) {
    subnets = subnets.filter((s) => {
      const labels = tagsToLabels(s.Tags);
      return Object.entries(tags).every(([key, value]) => labels[key] === value);
    });
  }

  // The ACL each subnet uses now.
  const aclOf = new Map<string, string>();
  for (const chunk of chunks(subnets.map((s) => s.SubnetId ?? ''), FILTER_VALUES_MAX)) {
    for (const acl of await describeAcls(ec2, [{ Name: 'association.subnet-id', Values: chunk }], signal)) {
      for (const association of acl.Associations ?? []) {
        if (association.SubnetId && acl.NetworkAclId) aclOf.set(association.SubnetId, acl.NetworkAclId);
      }
    }
  }

  return subnets
    .filter((s) => s.SubnetId && aclOf.has(s.SubnetId))
    .sort((a, b) => (a.SubnetId ?? '').localeCompare(b.SubnetId ?? ''))
    .map((subnet) => ({
      provider: 'aws',
      id: subnet.SubnetId ?? '',
      labels: tagsToLabels(subnet.Tags),
      details: {
        ...(region ? { region } : {}),
        ...(roleArn ? { role_arn: roleArn } : {}),
        subnet_id: subnet.SubnetId ?? '',
        vpc_id: subnet.VpcId ?? '',
        original_acl_id: aclOf.get(subnet.SubnetId ?? '') ?? '',
        ...(subnet.AvailabilityZone ? { availability_zone: subnet.AvailabilityZone } : {}),
      },
    }));
}

// ---- prepare -------------------------------------------------------------------------------------------------------

async function prepare(spec: RouteBlackholeSpec, target: TargetRef, clients: AwsClientFactory, signal: AbortSignal): Promise<RollbackIntent> {
  const { region, roleArn } = targetLocation(target);
  const { ec2 } = clients(region, roleArn);
  const subnetId = String(target.details.subnet_id ?? target.id);
  const current = await currentAcl(ec2, subnetId, signal);
  if (!current?.acl.NetworkAclId) throw new NotFoundError(`subnet ${subnetId} has no network ACL association (does it still exist?)`);
  const originalAclId = current.acl.NetworkAclId;
  const params: Params = {
    chaos_type: 'route_blackhole',
    subnet_id: subnetId,
    original_acl_id: originalAclId,
    destination_cidr: spec.parameters.destination_cidr,
  };
  return {
    provider: 'aws',
    action: ROUTE_BLACKHOLE_ACTION,
    target: { ...target, details: { ...target.details, subnet_id: subnetId, original_acl_id: originalAclId } },
    params: { ...params },
    snapshot: {
      subnet_id: subnetId,
      vpc_id: current.acl.VpcId ?? String(target.details.vpc_id ?? ''),
      network_acl_id: originalAclId,
      is_default_acl: current.acl.IsDefault ?? false,
      association_id: current.associationId,
      entries: (current.acl.Entries ?? []).map(entryJson),
    },
  };
}

// ---- apply ---------------------------------------------------------------------------------------------------------

/**
 * The entries of the copy, in creation order: the deny pair first (rule 1), then the original entries — renumbered
 * 2, 3, … per direction only when the original already uses rule 1 there.
 */
export function copyEntries(original: readonly NetworkAclEntry[], destinationCidr: string): NetworkAclEntry[] {
  const result: NetworkAclEntry[] = [];
  for (const egress of [false, true]) {
    const entries = original
      .filter((e) => (e.Egress ?? false) === egress && e.RuleNumber !== undefined && e.RuleNumber < IMPLICIT_DENY_RULE)
      .sort((a, b) => (a.RuleNumber ?? 0) - (b.RuleNumber ?? 0));
    const renumber = entries.some((e) => e.RuleNumber === DENY_RULE);
    result.push({ RuleNumber: DENY_RULE, Egress: egress, Protocol: '-1', RuleAction: 'deny', CidrBlock: destinationCidr });
    entries.forEach((entry, index) => result.push({ ...entry, RuleNumber: renumber ? DENY_RULE + 1 + index : entry.RuleNumber }));
  }
  return result;
}

async function taggedCopies(ec2: EC2Client, tagValue: string, signal?: AbortSignal): Promise<NetworkAcl[]> {
  return describeAcls(ec2, [{ Name: `tag:${EXPERIMENT_TAG}`, Values: [tagValue] }], signal);
}

async function apply(spec: RouteBlackholeSpec, intent: RollbackIntent, clients: AwsClientFactory, context: FaultContext): Promise<JsonObject> {
  const { region, roleArn } = targetLocation(intent.target);
  const { ec2 } = clients(region, roleArn);
  const { subnet_id: subnetId, original_acl_id: originalAclId } = intent.params as unknown as Params;
  const destinationCidr = spec.parameters.destination_cidr;
  const signal = context.signal;
  const tagValue = copyTagValue(context.experimentId, context.rollbackSeq);

  const current = await currentAcl(ec2, subnetId, signal);
  if (!current) throw new InjectionFailedError(`subnet ${subnetId} has no network ACL association (does it still exist?)`);
  const copies = await taggedCopies(ec2, tagValue, signal);
  const applied = copies.find((c) => c.NetworkAclId === current.acl.NetworkAclId);
  if (applied) return { copy_acl_id: applied.NetworkAclId ?? '', association: current.associationId, subnet_id: subnetId, already_applied: true };
  if (current.acl.NetworkAclId !== originalAclId) {
    throw new InjectionFailedError(
      `subnet ${subnetId} is now on network ACL ${current.acl.NetworkAclId}, not ${originalAclId} as prepared; not swapping it`,
    );
  }
  // Leftovers of an earlier attempt of this very apply, never swapped in: start over from the current entries.
  for (const stray of copies) {
    if ((stray.Associations ?? []).length === 0 && stray.NetworkAclId) await deleteAcl(ec2, stray.NetworkAclId, signal);
  }

  const { NetworkAcl: copy } = await ec2.send(
    new CreateNetworkAclCommand({
      VpcId: current.acl.VpcId,
      TagSpecifications: [
        {
          ResourceType: 'network-acl',
          Tags: [
            { Key: EXPERIMENT_TAG, Value: tagValue },
            { Key: SUBNET_TAG, Value: subnetId },
            { Key: ORIGINAL_ACL_TAG, Value: originalAclId },
            { Key: 'Name', Value: `chaosduck-blackhole-${subnetId}` },
          ],
        },
      ],
    }),
    { abortSignal: signal },
  );
  const copyAclId = copy?.NetworkAclId;
  if (!copyAclId) throw new InjectionFailedError('CreateNetworkAcl returned no network ACL id');

  for (const entry of copyEntries(current.acl.Entries ?? [], destinationCidr)) {
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: copyAclId,
        RuleNumber: entry.RuleNumber,
        Egress: entry.Egress ?? false,
        Protocol: entry.Protocol,
        RuleAction: entry.RuleAction,
        CidrBlock: entry.CidrBlock,
        Ipv6CidrBlock: entry.Ipv6CidrBlock,
        PortRange: entry.PortRange,
        IcmpTypeCode: entry.IcmpTypeCode,
      }),
      { abortSignal: signal },
    );
  }

  // If this fails the copy stays behind, tagged: revert deletes it.
  const { NewAssociationId: association } = await ec2.send(
    new ReplaceNetworkAclAssociationCommand({ AssociationId: current.associationId, NetworkAclId: copyAclId }),
    { abortSignal: signal },
  );
  return { copy_acl_id: copyAclId, association: association ?? '', subnet_id: subnetId, original_acl_id: originalAclId, destination_cidr: destinationCidr };
}

// ---- revert --------------------------------------------------------------------------------------------------------

async function deleteAcl(ec2: EC2Client, aclId: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: aclId }), { abortSignal: signal });
    return true;
  } catch (error) {
    if (/NotFound/i.test(errorCode(error))) return false; // deleted already (by a concurrent revert, say)
    throw error;
  }
}

async function revert(intent: RollbackIntent, clients: AwsClientFactory, context: FaultContext): Promise<JsonObject> {
  const { region, roleArn } = targetLocation(intent.target);
  const { ec2 } = clients(region, roleArn);
  const { subnet_id: subnetId, original_acl_id: originalAclId } = intent.params as unknown as Params;
  const signal = context.signal;
  const tagValue = copyTagValue(context.experimentId, context.rollbackSeq);

  const copies = await taggedCopies(ec2, tagValue, signal);
  const copyIds = new Set(copies.map((c) => c.NetworkAclId));
  const current = await currentAcl(ec2, subnetId, signal);

  let restored: string;
  let restoredTo: string | undefined;
  if (!current) {
    restored = 'subnet_gone';
  } else if (current.acl.NetworkAclId === originalAclId) {
    restored = 'already_restored';
  } else if (!copyIds.has(current.acl.NetworkAclId)) {
    // Someone else moved the subnet to another ACL since: that is not ours to undo.
    restored = 'not_ours';
  } else {
    let toAclId = originalAclId;
    // The VPC's ACLs, not a `network-acl-id` filter or NetworkAclIds: moto implements neither the filter nor the
    // right NotFound error, and the original is in the subnet's VPC anyway.
    const aclsOfVpc = await describeAcls(ec2, [{ Name: 'vpc-id', Values: [current.acl.VpcId ?? ''] }], signal);
    if (!aclsOfVpc.some((acl) => acl.NetworkAclId === originalAclId)) {
      // The original was deleted while unused. Never leave the subnet blackholed: fall back to the VPC's default ACL.
      const fallback = aclsOfVpc.find((acl) => acl.IsDefault);
      if (!fallback?.NetworkAclId) throw new ConflictError(`network ACL ${originalAclId} is gone and VPC ${current.acl.VpcId} has no default ACL`);
      toAclId = fallback.NetworkAclId;
    }
    await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: current.associationId, NetworkAclId: toAclId }), {
      abortSignal: signal,
    });
    restored = toAclId === originalAclId ? 'restored' : 'restored_to_default_acl';
    restoredTo = toAclId;
  }

  // Delete the copies once no subnet uses them (re-read: the swap above just emptied one).
  const deleted: string[] = [];
  const inUse: string[] = [];
  for (const copy of copies.length > 0 ? await taggedCopies(ec2, tagValue, signal) : []) {
    if (!copy.NetworkAclId) continue;
    if ((copy.Associations ?? []).length > 0) inUse.push(copy.NetworkAclId);
    else if (await deleteAcl(ec2, copy.NetworkAclId, signal)) deleted.push(copy.NetworkAclId);
  }
  if (inUse.length > 0) {
    throw new ConflictError(`network ACL copies ${inUse.join(', ')} (${EXPERIMENT_TAG}=${tagValue}) are still associated with subnets; not deleting them`);
  }
  return {
    subnet_id: subnetId,
    restored,
    ...(restoredTo ? { network_acl_id: restoredTo } : {}),
    deleted_copies: deleted,
  };
}

export const routeBlackhole: AwsFault = {
  resolve: (spec, clients, signal) => resolve(spec as RouteBlackholeSpec, clients, signal),
  prepare: (spec, target, clients, signal) => prepare(spec as RouteBlackholeSpec, target, clients, signal),
  apply: (spec, intent, clients, context) => apply(spec as RouteBlackholeSpec, intent, clients, context),
  revert,
};
