/**
 * The AWS fault actions, for the functions that apply and revert faults. Every action that changes a resource is
 * allowed only on resources carrying the chaos tag (`aws:ResourceTag/<tagKey>` = `true`), so a deployer opts each
 * instance, route table and database in by tagging it; nothing untagged can be stopped, rerouted or failed over,
 * whatever an experiment asks. Finding targets needs the Describe actions, which take no resource or tag condition.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';

export const DEFAULT_CHAOS_TAG_KEY = 'chaosduck:target';

/** Changes a fault makes or undoes, by the resource type IAM authorizes them on. */
const FAULT_ACTIONS: ReadonlyArray<{ actions: string[]; resource: string }> = [
  { actions: ['ec2:StopInstances', 'ec2:StartInstances'], resource: `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:instance/*` },
  {
    actions: ['ec2:ReplaceRouteTableAssociation', 'ec2:CreateRoute', 'ec2:DeleteRoute', 'ec2:ReplaceRoute'],
    resource: `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:route-table/*`,
  },
  { actions: ['rds:FailoverDBCluster'], resource: `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster:*` },
  { actions: ['rds:RebootDBInstance'], resource: `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:*` },
];

/** How cdk-nag names each resource pattern above in its IAM5 findings. */
const FAULT_RESOURCE_FINDINGS = [
  'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*',
  'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:route-table/*',
  'arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:cluster:*',
  'arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:*',
];

const DESCRIBE_ACTIONS = ['ec2:DescribeInstances', 'ec2:DescribeRouteTables', 'rds:DescribeDBClusters', 'rds:DescribeDBInstances'];

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
    this.policy = new Policy(this, 'Policy', {
      statements: [
        ...FAULT_ACTIONS.map(
          ({ actions, resource }) =>
            new PolicyStatement({ actions, resources: [resource], conditions: { StringEquals: { [`aws:ResourceTag/${tagKey}`]: 'true' } } }),
        ),
        new PolicyStatement({ actions: DESCRIBE_ACTIONS, resources: ['*'] }),
      ],
    });
    props.role.attachInlinePolicy(this.policy);

    Validations.of(cfnOf(this.policy)).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `Only ${DESCRIBE_ACTIONS.join(', ')}: these Describe actions support no resource-level permissions or tag conditions, and finding the tagged targets needs them`,
      },
      ...FAULT_RESOURCE_FINDINGS.map((resource) => ({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: `Fault actions on any such resource in this account and region, but only where it is tagged ${tagKey}=true (aws:ResourceTag condition); the targets are chosen per experiment, so no ARN can be named ahead`,
      })),
    );
  }
}
