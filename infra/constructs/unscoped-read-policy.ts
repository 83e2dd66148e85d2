/**
 * Read-only actions granted on `*` (where AWS offers no resource-level permissions for them), in a policy of their own on the
 * function's role: the cdk-nag finding for the `*` resource then sits on this policy alone, acknowledged with the
 * reason for these actions, apart from the role's default policy (whose only wildcard is X-Ray).
 */
import { Validations } from 'aws-cdk-lib';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';

export interface UnscopedReadPolicyProps {
  readonly role: IRole;
  /** Read-only actions (Describe/List/Get) that support no resource-level permissions. */
  readonly actions: readonly string[];
  /** Why they are on `*` and why the function needs them; the acknowledgement names the actions itself. */
  readonly reason: string;
}

export class UnscopedReadPolicy extends Construct {
  readonly policy: Policy;

  constructor(scope: Construct, id: string, props: UnscopedReadPolicyProps) {
    super(scope, id);
    const writes = props.actions.filter((action) => !/^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$/.test(action));
    if (writes.length > 0) throw new Error(`${this.node.path}: not read-only: ${writes.join(', ')}`);
    this.policy = new Policy(this, 'Policy', {
      statements: [new PolicyStatement({ actions: [...props.actions], resources: ['*'] })],
    });
    props.role.attachInlinePolicy(this.policy);
    Validations.of(cfnOf(this.policy)).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `Only ${props.actions.join(', ')}, read-only: ${props.reason}`,
    });
  }
}
