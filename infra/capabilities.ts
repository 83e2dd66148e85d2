/**
 * Applies a function's access from the catalogue: each branch sets the environment variable that names a resource
 * and grants exactly the use the function makes of it, so the two never come apart.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { FunctionSpec } from './function-catalogue.js';
import type { ChaosDuckTable } from './constructs/chaosduck-table.js';
import type { ControlBus } from './constructs/control-bus.js';
import type { ControlPlaneFunction } from './constructs/control-plane-function.js';
import type { ControlPlaneWebSocketApi } from './constructs/control-plane-websocket-api.js';
import { EksAccess } from './constructs/eks-access.js';
import { FAULT_DESCRIBE_ACTIONS, FaultInjectionPolicy } from './constructs/fault-injection-policy.js';
import type { LifecycleStateMachines } from './constructs/lifecycle-state-machines.js';
import { TargetRolePolicy } from './constructs/target-role-policy.js';
import { UnscopedReadPolicy } from './constructs/unscoped-read-policy.js';

/** What the AWS topology and dry runs read: the faults' Describe actions, and the VPCs the topology lists. */
export const AWS_READ_ACTIONS = [...FAULT_DESCRIBE_ACTIONS, 'ec2:DescribeVpcs'];
/** What a `cloudwatch_alarm` probe calls. */
export const ALARM_PROBE_ACTIONS = ['cloudwatch:DescribeAlarms'];

/** Guardrail overrides; unset ones leave the code's defaults (`DEFAULT_GUARDRAILS`). */
export interface GuardrailSettings {
  readonly maxTimeoutSeconds?: number;
  readonly productionPattern?: string;
}

export interface ControlPlaneResources {
  readonly table: ChaosDuckTable;
  readonly bus: ControlBus;
  readonly stateMachines: LifecycleStateMachines;
  readonly webSocket: ControlPlaneWebSocketApi;
  readonly guardrails: GuardrailSettings;
  /** The tag key that opts AWS resources in as fault targets. */
  readonly chaosTagKey: string;
  /** The roles experiments may act through in other accounts; empty grants no sts:AssumeRole at all. */
  readonly targetRoleArns: readonly string[];
  /** EKS clusters (names, this account and region) the Kubernetes functions get access entries on; empty: none. */
  readonly eksClusters: readonly string[];
  /** The chaos agent image for Kubernetes network and stress faults; unset: those faults say it is missing. */
  readonly agentImage?: string;
  /** The API function, which the analysis function asks for dry runs and the topology. */
  readonly apiFunction: IFunction;
  /** The Secrets Manager secret holding the Anthropic API key; unset: the analysis answers offline. */
  readonly anthropicSecretArn?: string;
  /** The analysis function's (fixed) name, which the HYPOTHESIS task asks for Claude's prediction when there is a key. */
  readonly analysisFunctionName: string;
}

export function applyAccess(fn: ControlPlaneFunction, spec: FunctionSpec, resources: ControlPlaneResources): void {
  const { table, bus, stateMachines, webSocket, guardrails } = resources;
  if (spec.table) {
    fn.addEnvironment('TABLE_NAME', table.tableName);
    table.grantItemReadWrite(fn.role);
    if (spec.table === 'with-indexes') table.grantIndexQuery(fn.role);
  }
  if (spec.bus) {
    fn.addEnvironment('EVENT_BUS_NAME', bus.eventBusName);
    for (const source of spec.bus) bus.grantPutEvents(fn.role, source);
  }
  if (spec.experiments) {
    fn.addEnvironment('STATE_MACHINE_ARN', stateMachines.orchestrator.stateMachineArn);
    if (spec.experiments.includes('start')) stateMachines.grantStartExperiment(fn.role);
    if (spec.experiments.includes('stop')) stateMachines.grantStopExperiment(fn.role);
    if (spec.experiments.includes('describe')) stateMachines.grantDescribeExperiment(fn.role);
    if (spec.experiments.includes('stop') || spec.experiments.includes('describe')) {
      fn.acknowledgeGrant(
        stateMachines.executionsFinding,
        'Stopping or describing experiment runs: execution names are made when a run starts, and the ARN is limited to executions of the orchestrator',
      );
    }
  }
  if (spec.guardrails) {
    if (guardrails.maxTimeoutSeconds !== undefined) fn.addEnvironment('MAX_TIMEOUT_SECONDS', String(guardrails.maxTimeoutSeconds));
    if (guardrails.productionPattern !== undefined) fn.addEnvironment('PRODUCTION_PATTERN', guardrails.productionPattern);
  }
  if (spec.faults) {
    new FaultInjectionPolicy(fn, 'Faults', { role: fn.role, tagKey: resources.chaosTagKey });
  }
  if (spec.awsRead) {
    fn.addEnvironment('CHAOS_TAG_KEY', resources.chaosTagKey);
    new UnscopedReadPolicy(fn, 'AwsRead', {
      role: fn.role,
      actions: AWS_READ_ACTIONS,
      reason:
        'the listing Describe calls support no resource-level permissions or tag conditions, and a dry run inspects the candidates an experiment names before anything is known to be tagged; the AWS topology filters on the chaos tag itself',
    });
  }
  if (spec.alarmProbes) {
    new UnscopedReadPolicy(fn, 'AlarmProbes', {
      role: fn.role,
      actions: ALARM_PROBE_ACTIONS,
      reason:
        'DescribeAlarms supports no resource-level permissions (it lists alarms by name or prefix), and cloudwatch_alarm probes name their alarm per experiment',
    });
  }
  if (spec.targetRoles && resources.targetRoleArns.length > 0) {
    new TargetRolePolicy(fn, 'TargetRoles', { role: fn.role, roleArns: resources.targetRoleArns });
  }
  if (spec.kubernetes) {
    new EksAccess(fn, 'Kubernetes', { role: fn.role, clusters: resources.eksClusters });
    if (spec.faults && resources.agentImage) fn.addEnvironment('CHAOSDUCK_AGENT_IMAGE', resources.agentImage);
  }
  // The functions themselves, unqualified: grantInvoke would add their versions and aliases (`:*`), which nothing uses.
  const mayInvoke = (functionArn: string) => fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [functionArn] }));
  if (spec.invokesApi) {
    fn.addEnvironment('API_FUNCTION_NAME', resources.apiFunction.functionName);
    mayInvoke(resources.apiFunction.functionArn);
  }
  if (spec.invokesAnalysis && resources.anthropicSecretArn) {
    fn.addEnvironment('ANALYSIS_FUNCTION_NAME', resources.analysisFunctionName);
    mayInvoke(Stack.of(fn).formatArn({ service: 'lambda', resource: 'function', resourceName: resources.analysisFunctionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
  }
  if (spec.anthropicSecret && resources.anthropicSecretArn) {
    fn.addEnvironment('ANTHROPIC_SECRET_ARN', resources.anthropicSecretArn);
    Secret.fromSecretCompleteArn(fn, 'AnthropicKey', resources.anthropicSecretArn).grantRead(fn.role);
  }
  if (spec.websocketPost) {
    fn.addEnvironment('WS_ENDPOINT', webSocket.callbackUrl);
    webSocket.grantPostToConnections(fn.role);
    fn.acknowledgeGrant(
      webSocket.connectionsFinding,
      'Posting to WebSocket connections: connection ids are only known at run time, and the ARN is limited to POST @connections on this API stage',
    );
  }
}
