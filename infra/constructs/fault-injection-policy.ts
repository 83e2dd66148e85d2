/**
 * The AWS fault actions, for the functions that apply and revert faults (`shared/faults/aws/`). Every action that
 * changes a deployer's resource is allowed only on resources carrying the chaos tag (`aws:ResourceTag/<tagKey>` =
 * `true`), so a deployer opts each instance, DB cluster, DB instance, VPC and subnet in by tagging it.
 *
 *   ec2_stop         StopInstances/StartInstances on tagged instances; CreateTags/DeleteTags on them for the one
 *                    key `chaosduck:start-after` (the durable `start_after_seconds` deadline) and nothing else.
 *   rds_failover     FailoverDBCluster on tagged clusters, RebootDBInstance on tagged DB instances.
 *   route_blackhole  the FIS-style network ACL swap: CreateNetworkAcl in tagged VPCs, the copy tagged
 *                    `chaosduck:experiment` at creation (TagSpecifications, hence CreateTags with
 *                    `ec2:CreateAction=CreateNetworkAcl`); CreateNetworkAclEntry and DeleteNetworkAcl only on ACLs
 *                    carrying `chaosduck:experiment`, i.e. the copies; ReplaceNetworkAclAssociation on tagged subnets.
 *
 * What cannot be tag-conditioned: ReplaceNetworkAclAssociation is authorized on the network ACL being associated,
 * and on revert that is the subnet's ORIGINAL ACL (the deployer's, often the VPC's default ACL), which ChaosDuck
 * never tags — requiring a tag there would let a rollback fail and leave the subnet blackholed. So that half is
 * allowed on any network ACL in this account and region, unconditioned; the subnet half is tag-conditioned, which
 * holds wherever EC2 also evaluates the subnet for this action. No route actions are granted: the fault changes
 * network ACLs, never routes or route-table associations.
 *
 * Finding targets needs the Describe actions, which take no resource or tag condition.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';

export const DEFAULT_CHAOS_TAG_KEY = 'chaosduck:target';
/** The tag route_blackhole puts on each network ACL copy it creates (`EXPERIMENT_TAG` in `route-blackhole.ts`). */
export const EXPERIMENT_TAG = 'chaosduck:experiment';
/** The one tag ec2_stop writes on (and removes from) an instance (`START_AFTER_TAG` in `ec2-stop.ts`). */
export const START_AFTER_TAG = 'chaosduck:start-after';

/** What the faults' resolve/prepare/revert read; read-only, granted on `*` (the listing ones support nothing narrower). */
export const FAULT_DESCRIBE_ACTIONS = [
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceAttribute',
  'ec2:DescribeSubnets',
  'ec2:DescribeRouteTables',
  'ec2:DescribeNetworkAcls',
  'rds:DescribeDBClusters',
  'rds:DescribeDBInstances',
];

/** Resource patterns in this account and region, by type, and how cdk-nag names each in its IAM5 findings. */
const RESOURCE = {
  instance: ['ec2', 'instance/*'],
  vpc: ['ec2', 'vpc/*'],
  subnet: ['ec2', 'subnet/*'],
  networkAcl: ['ec2', 'network-acl/*'],
  cluster: ['rds', 'cluster:*'],
  db: ['rds', 'db:*'],
} as const;
type ResourceType = keyof typeof RESOURCE;
const arnOf = (type: ResourceType) => `arn:${Aws.PARTITION}:${RESOURCE[type][0]}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${RESOURCE[type][1]}`;
const findingOf = (type: ResourceType) => `arn:<AWS::Partition>:${RESOURCE[type][0]}:<AWS::Region>:<AWS::AccountId>:${RESOURCE[type][1]}`;

export interface FaultInjectionPolicyProps {
  /** The role of a function that applies or reverts faults. */
  readonly role: IRole;
  /**
   * The tag key that opts a resource in as a chaos target; its value must be `true`.
   * @default 'chaosduck:target'
   */
  readonly tagKey?: string;
}

export class FaultInjectionPolicy extends Construct {
  readonly policy: Policy;

  constructor(scope: Construct, id: string, props: FaultInjectionPolicyProps) {
    super(scope, id);
    const tagKey = props.tagKey ?? DEFAULT_CHAOS_TAG_KEY;
    const tagged = { StringEquals: { [`aws:ResourceTag/${tagKey}`]: 'true' } };
    const experimentCopy = { StringLike: { [`aws:ResourceTag/${EXPERIMENT_TAG}`]: '*' } };
    const experimentTagRequested = { [`aws:RequestTag/${EXPERIMENT_TAG}`]: '*' };
    const on = (type: ResourceType, actions: string[], conditions?: Record<string, Record<string, unknown>>) =>
      new PolicyStatement({ actions, resources: [arnOf(type)], conditions });

    this.policy = new Policy(this, 'Policy', {
      statements: [
        // ec2_stop
        on('instance', ['ec2:StopInstances', 'ec2:StartInstances'], tagged),
        on('instance', ['ec2:CreateTags', 'ec2:DeleteTags'], {
          ...tagged,
          'ForAllValues:StringEquals': { 'aws:TagKeys': [START_AFTER_TAG] },
          // Without tag keys, DeleteTags would remove every tag and ForAllValues would hold vacuously.
          Null: { 'aws:TagKeys': 'false' },
        }),
        // rds_failover
        on('cluster', ['rds:FailoverDBCluster'], tagged),
        on('db', ['rds:RebootDBInstance'], tagged),
        // route_blackhole
        on('vpc', ['ec2:CreateNetworkAcl'], tagged),
        on('networkAcl', ['ec2:CreateNetworkAcl'], { StringLike: experimentTagRequested }),
        on('networkAcl', ['ec2:CreateTags'], { StringEquals: { 'ec2:CreateAction': 'CreateNetworkAcl' }, StringLike: experimentTagRequested }),
        on('networkAcl', ['ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAcl'], experimentCopy),
        on('subnet', ['ec2:ReplaceNetworkAclAssociation'], tagged),
        on('networkAcl', ['ec2:ReplaceNetworkAclAssociation']),
        new PolicyStatement({ actions: FAULT_DESCRIBE_ACTIONS, resources: ['*'] }),
      ],
    });
    props.role.attachInlinePolicy(this.policy);

    const taggedOnly = `only where it is tagged ${tagKey}=true (aws:ResourceTag condition); the targets are chosen per experiment, so no ARN can be named ahead`;
    const reasons: Record<ResourceType, string> = {
      instance: `StopInstances/StartInstances, and CreateTags/DeleteTags for the ${START_AFTER_TAG} key only, on any instance in this account and region, ${taggedOnly}`,
      cluster: `FailoverDBCluster on any DB cluster in this account and region, ${taggedOnly}`,
      db: `RebootDBInstance on any DB instance in this account and region, ${taggedOnly}`,
      vpc: `CreateNetworkAcl (route_blackhole's ACL copy) in any VPC of this account and region, ${taggedOnly}`,
      subnet: `ReplaceNetworkAclAssociation on any subnet of this account and region, ${taggedOnly}`,
      networkAcl:
        `Network ACLs are created by the fault, so their ids are unknown ahead: CreateNetworkAcl and CreateTags only with the ${EXPERIMENT_TAG} request tag (CreateTags only as part of CreateNetworkAcl), ` +
        `CreateNetworkAclEntry/DeleteNetworkAcl only on ACLs carrying ${EXPERIMENT_TAG} (the copies). ReplaceNetworkAclAssociation is unconditioned here: revert re-associates the subnet's original ACL, ` +
        `which ChaosDuck does not tag and must always be able to restore; the subnet side is limited to subnets tagged ${tagKey}=true`,
    };
    Validations.of(cfnOf(this.policy)).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `Only ${FAULT_DESCRIBE_ACTIONS.join(', ')}: read-only Describe actions (the listing ones support no resource-level permissions or tag conditions), and finding the tagged targets needs them`,
      },
      ...(Object.keys(RESOURCE) as ResourceType[]).map((type) => ({ id: `AwsSolutions-IAM5[Resource::${findingOf(type)}]`, reason: reasons[type] })),
    );
  }
}
