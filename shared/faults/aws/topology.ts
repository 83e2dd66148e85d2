/**
 * What the control plane may target in AWS: the instances, DB clusters, VPCs, subnets and route tables tagged for
 * chaos (`<tagKey>=true`), for dry runs, for people choosing targets, and later for the AI features.
 */
import {
  paginateDescribeInstances,
  paginateDescribeRouteTables,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
  type Tag,
} from '@aws-sdk/client-ec2';
import { paginateDescribeDBClusters } from '@aws-sdk/client-rds';
import type { JsonObject } from '../../journal/activity.js';
import type { AwsClientFactory } from './clients.js';
import { namedConfigurationError } from './targets.js';

export const DEFAULT_CHAOS_TAG_KEY = 'chaosduck:target';

const tagsOf = (tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t): t is Required<Tag> => !!t.Key).map((t) => [t.Key, t.Value ?? '']));

export async function awsTopology(clients: AwsClientFactory, options: { region?: string; tagKey?: string } = {}): Promise<JsonObject> {
  return readTopology(clients, options).catch((error: unknown) => {
    throw namedConfigurationError(error, 'region');
  });
}

async function readTopology(clients: AwsClientFactory, { region, tagKey = DEFAULT_CHAOS_TAG_KEY }: { region?: string; tagKey?: string }): Promise<JsonObject> {
  const { ec2, rds } = clients(region, undefined);
  const tagged = [{ Name: `tag:${tagKey}`, Values: ['true'] }];
  const all = async <P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> => {
    const out: T[] = [];
    for await (const page of pages) out.push(...(items(page) ?? []));
    return out;
  };
  const [reservations, vpcs, subnets, routeTables, clusters] = await Promise.all([
    all(paginateDescribeInstances({ client: ec2 }, { Filters: tagged }), (p) => p.Reservations),
    all(paginateDescribeVpcs({ client: ec2 }, { Filters: tagged }), (p) => p.Vpcs),
    all(paginateDescribeSubnets({ client: ec2 }, { Filters: tagged }), (p) => p.Subnets),
    all(paginateDescribeRouteTables({ client: ec2 }, { Filters: tagged }), (p) => p.RouteTables),
    all(paginateDescribeDBClusters({ client: rds }, {}), (p) => p.DBClusters),
  ]);
  return {
    tag: `${tagKey}=true`,
    region: (await ec2.config.region()) ?? null,
    instances: reservations.flatMap((r) =>
      (r.Instances ?? []).map((i) => ({
        instance_id: i.InstanceId ?? '',
        state: i.State?.Name ?? null,
        type: i.InstanceType ?? null,
        az: i.Placement?.AvailabilityZone ?? null,
        vpc_id: i.VpcId ?? null,
        subnet_id: i.SubnetId ?? null,
        tags: tagsOf(i.Tags),
      })),
    ),
    db_clusters: clusters
      // RDS has no server-side tag filter on DescribeDBClusters; the tag list comes with each cluster.
      .filter((c) => tagsOf(c.TagList)[tagKey] === 'true')
      .map((c) => ({
        db_cluster_identifier: c.DBClusterIdentifier ?? '',
        engine: c.Engine ?? null,
        status: c.Status ?? null,
        writer: c.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier ?? null,
        members: (c.DBClusterMembers ?? []).map((m) => m.DBInstanceIdentifier ?? ''),
        tags: tagsOf(c.TagList),
      })),
    vpcs: vpcs.map((v) => ({ vpc_id: v.VpcId ?? '', cidr: v.CidrBlock ?? null, tags: tagsOf(v.Tags) })),
    subnets: subnets.map((s) => ({
      subnet_id: s.SubnetId ?? '',
      vpc_id: s.VpcId ?? null,
      cidr: s.CidrBlock ?? null,
      az: s.AvailabilityZone ?? null,
      tags: tagsOf(s.Tags),
    })),
    route_tables: routeTables.map((t) => ({
      route_table_id: t.RouteTableId ?? '',
      vpc_id: t.VpcId ?? null,
      subnet_ids: (t.Associations ?? []).map((a) => a.SubnetId).filter((s): s is string => !!s),
      main: (t.Associations ?? []).some((a) => a.Main),
      tags: tagsOf(t.Tags),
    })),
  };
}
