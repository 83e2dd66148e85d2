/**
 * API Gateway writes execution and access logs through one role per account and region (`AWS::ApiGateway::Account`),
 * shared by REST and WebSocket APIs alike. This sets it, for deployers whose account has none yet; stages that log
 * depend on it so they are not created before the role is in place. Deployers whose account already has the role
 * turn it off (`apiGatewayAccountLogging: false`).
 */
import { CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';

export class ApiGatewayAccountLogging extends Construct {
  readonly role: Role;
  readonly account: CfnAccount;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    this.account = new CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
    // Other APIs in the account log through the same setting: deleting this stack must not take it from them.
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(cfnOf(this.role)).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-wide API Gateway logging role serves every API in this account and region, whose log groups API Gateway creates and names itself; the AWS managed policy is the documented one for that role',
    });
  }
}
