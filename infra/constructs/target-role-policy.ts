/**
 * sts:AssumeRole on the roles the deployer allows experiments to act through (`target.role_arn`, an alarm probe's
 * `role_arn`), in a policy of its own on the function's role: a role name pattern with `*` is a cdk-nag finding, and
 * its acknowledgement then sits on this policy alone, naming the pattern the deployer chose.
 */
import { Validations } from 'aws-cdk-lib';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';

/** A role ARN with a 12-digit account; `*` may appear only in the role name (after the last `/`), never the path. */
const TARGET_ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@*-]+$/;

/** Checks the deployer's list; a wrong entry fails the synth instead of granting something else. */
export function assertTargetRoleArns(arns: readonly string[], source: string): void {
  const bad = arns.filter((arn) => !TARGET_ROLE_ARN.test(arn));
  if (bad.length > 0) {
    throw new Error(`${source}: not an IAM role ARN (a 12-digit account, "*" only in the role name): ${bad.join(', ')}`);
  }
}

/** Whether a role ARN an experiment names is one of the allowed ones (with their `*` as "any characters"). */
export function targetRoleAllowed(arn: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(arn));
}

export interface TargetRolePolicyProps {
  readonly role: IRole;
  /** Role ARNs, checked by `assertTargetRoleArns`; at least one. */
  readonly roleArns: readonly string[];
}

export class TargetRolePolicy extends Construct {
  readonly policy: Policy;

  constructor(scope: Construct, id: string, props: TargetRolePolicyProps) {
    super(scope, id);
    assertTargetRoleArns(props.roleArns, this.node.path);
    if (props.roleArns.length === 0) throw new Error(`${this.node.path}: no role ARNs to grant`);
    this.policy = new Policy(this, 'Policy', {
      statements: [new PolicyStatement({ actions: ['sts:AssumeRole'], resources: [...new Set(props.roleArns)] })],
    });
    props.role.attachInlinePolicy(this.policy);
    const patterns = [...new Set(props.roleArns.filter((arn) => arn.includes('*')))];
    if (patterns.length > 0) {
      Validations.of(cfnOf(this.policy)).acknowledge(
        ...patterns.map((arn) => ({
          id: `AwsSolutions-IAM5[Resource::${arn}]`,
          reason: `sts:AssumeRole only, on the role name pattern the deployer allows for cross-account targets (context chaosduck:targetRoleArns): ${arn}; experiments name the role per run`,
        })),
      );
    }
  }
}
