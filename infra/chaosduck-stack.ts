/**
 * The whole control plane in one stack: the table, the bus, the functions of the catalogue, the six state machines,
 * the REST and WebSocket APIs, and the rules and schedule that drive the asynchronous functions.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import { EventField, type Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName } from '../functions/registry.js';
import { CONTROL_SOURCE, EMERGENCY_STOP_RAISED } from '../shared/lifecycle/aws-control.js';
import { PROGRESS_SOURCE } from '../shared/websocket/events.js';
import { applyAccess, type GuardrailSettings } from './capabilities.js';
import { ApiGatewayAccountLogging } from './constructs/api-gateway-logging.js';
import { ChaosDuckTable } from './constructs/chaosduck-table.js';
import { ControlBus } from './constructs/control-bus.js';
import { ControlPlaneFunction } from './constructs/control-plane-function.js';
import { ControlPlaneRestApi } from './constructs/control-plane-rest-api.js';
import { ControlPlaneWebSocketApi } from './constructs/control-plane-websocket-api.js';
import { KUBERNETES_GROUP, assertEksClusterNames } from './constructs/eks-access.js';
import { DEFAULT_CHAOS_TAG_KEY } from './constructs/fault-injection-policy.js';
import { LifecycleStateMachines } from './constructs/lifecycle-state-machines.js';
import { OrderedEventQueue } from './constructs/ordered-event-queue.js';
import { assertTargetRoleArns } from './constructs/target-role-policy.js';
import { loadGameDays } from './game-days.js';
import { guardrailsFromEnv } from '../shared/lifecycle/config.js';
import { type ControlPlaneFunctionName, FUNCTIONS, FUNCTION_NAMES, SYNC_INVOCATION, entryOf } from './function-catalogue.js';
import { pascal } from './pascal.js';
import { pathsOf } from '../functions/rest.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ChaosDuckStackProps extends StackProps {
  /**
   * The tag key that opts an EC2 instance, route table or RDS database in as a fault target (value `true`).
   * @default 'chaosduck:target'
   */
  readonly chaosTargetTagKey?: string;
  /**
   * Guardrail overrides for the functions that check them.
   * @default - the code's defaults (`DEFAULT_GUARDRAILS`)
   */
  readonly guardrails?: GuardrailSettings;
  /**
   * Set the account's API Gateway logging role (`AWS::ApiGateway::Account`). Turn off when the account already has
   * one: there is one per account and region, and this would replace it.
   * @default true
   */
  readonly apiGatewayAccountLogging?: boolean;
  /**
   * Include state input and output in the state machines' execution logs.
   * @default false
   */
  readonly includeExecutionData?: boolean;
  /** Retention of every log group. @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /**
   * A JSON or YAML file listing game days, `{ name, schedule: 'cron(...)' | 'rate(...)', experiment }`: each becomes
   * a schedule that submits its experiment (once per scheduled time) through the `scheduled-experiment` function.
   * Every experiment is validated at synth. Relative paths are from the working directory (`cdk` runs at the root).
   * @default - no game days
   */
  readonly gameDaysFile?: string;
  /**
   * Role ARNs the functions that call AWS (inject, observe, rollback, run-probes, api) may assume, for experiments and
   * alarm probes that name a `role_arn` in another account; `*` is allowed in the role name only.
   * @default - none: no function may assume any role
   */
  readonly targetRoleArns?: readonly string[];
  /**
   * EKS clusters in this stack's account and region that experiments target (`target.cluster`): the functions that
   * talk to Kubernetes may describe only these, and each gets an access entry on them in the Kubernetes group
   * `chaosduck` (bind it with deploy/kubernetes/rbac.yaml). The clusters' authentication mode must include the EKS API.
   * @default - none: DescribeCluster on any cluster here, and no access entry (map the `KubernetesRoleArns` yourself)
   */
  readonly eksClusters?: readonly string[];
  /**
   * The chaos agent image (sh, tc, stress-ng; agent/Dockerfile builds one) that Kubernetes network and stress faults
   * run in an ephemeral container of each target pod. Pushed where the clusters' nodes can pull it.
   * @default - none: those faults are refused with a message naming this setting
   */
  readonly agentImage?: string;
  /**
   * The complete ARN of a Secrets Manager secret holding an Anthropic API key (the whole secret string is the key):
   * the analysis function then asks Claude, reading the key at its first request; it is never logged or returned.
   * @default - none: the analysis answers with the offline analyst
   */
  readonly anthropicSecretArn?: string;
}

export class ChaosDuckStack extends Stack {
  readonly table: ChaosDuckTable;
  readonly bus: ControlBus;
  /** Lifecycle progress on its way to `ws-broadcast`: a FIFO queue grouped by experiment, so each one's events stay in order. */
  readonly progressQueue: OrderedEventQueue;
  readonly functions: ReadonlyMap<ControlPlaneFunctionName, ControlPlaneFunction>;
  readonly stateMachines: LifecycleStateMachines;
  readonly restApi: ControlPlaneRestApi;
  readonly webSocket: ControlPlaneWebSocketApi;
  /** One schedule per game day, by game day name. */
  readonly gameDayRules: ReadonlyMap<string, Rule>;

  constructor(scope: Construct, id: string, props: ChaosDuckStackProps = {}) {
    super(scope, id, { description: 'ChaosDuck chaos-engineering control plane', ...props });
    const missing = FUNCTION_NAMES.map(entryOf).filter((entry) => !existsSync(join(REPO_ROOT, entry)));
    if (missing.length > 0) throw new Error(`handler modules missing (see infra/function-catalogue.ts): ${missing.join(', ')}`);

    const targetRoleArns = props.targetRoleArns ?? [];
    assertTargetRoleArns(targetRoleArns, 'targetRoleArns');
    const eksClusters = props.eksClusters ?? [];
    assertEksClusterNames(eksClusters, 'eksClusters');
    // Read before anything is built: a bad game day fails the synth at once, naming itself and its fields.
    // The guardrails are read as the functions will read the same settings from their environment.
    const guardrails = guardrailsFromEnv({ MAX_TIMEOUT_SECONDS: props.guardrails?.maxTimeoutSeconds?.toString(), PRODUCTION_PATTERN: props.guardrails?.productionPattern });
    const gameDays = props.gameDaysFile === undefined ? [] : loadGameDays(props.gameDaysFile, { targetRoleArns, guardrails });

    this.table = new ChaosDuckTable(this, 'Table');
    this.bus = new ControlBus(this, 'Bus');
    const logging = (props.apiGatewayAccountLogging ?? true) ? new ApiGatewayAccountLogging(this, 'ApiGatewayLogging').account : undefined;

    const functionScope = new Construct(this, 'Functions');
    this.functions = new Map(
      FUNCTION_NAMES.map((name) => {
        const spec = FUNCTIONS[name];
        const fn = new ControlPlaneFunction(functionScope, pascal(name), {
          entry: join(REPO_ROOT, entryOf(name)),
          description: spec.description,
          timeout: Duration.seconds('timeoutSeconds' in spec ? spec.timeoutSeconds : 30),
          memorySize: 'memoryMb' in spec ? spec.memoryMb : 512,
          logRetention: props.logRetention,
          ...(name === 'analysis' ? { functionName: analysisFunctionName(this.stackName) } : {}),
          ...(spec.invokedBy === 'event-rule'
            ? { deadLetterQueue: this.bus.deadLetterQueue }
            : { syncInvocationReason: SYNC_INVOCATION[spec.invokedBy] }),
        });
        return [name, fn] as const;
      }),
    );
    const fn = (name: ControlPlaneFunctionName): IFunction => this.required(name).function;

    const tasks = new Map(
      FUNCTION_NAMES.filter((name) => FUNCTIONS[name].invokedBy === 'state-machine').map((name) => [name as FunctionName, fn(name)] as const),
    );
    this.stateMachines = new LifecycleStateMachines(this, 'StateMachines', {
      functions: tasks,
      includeExecutionData: props.includeExecutionData,
      logRetention: props.logRetention,
    });

    if (props.anthropicSecretArn !== undefined) assertSecretArn(props.anthropicSecretArn, 'anthropicSecretArn');
    this.restApi = new ControlPlaneRestApi(this, 'RestApi', {
      handler: fn('api'),
      // The analysis function answers the paths of its routes (functions/rest.ts): its API, an experiment's report page
      // and the OpenAPI document; local/server.ts dispatches the same paths to it.
      routes: pathsOf('analysis').map((path) => ({ path, handler: fn('analysis') })),
      logRetention: props.logRetention,
      loggingDependency: logging,
    });
    this.webSocket = new ControlPlaneWebSocketApi(this, 'WebSocket', {
      connectHandler: fn('ws-connect'),
      disconnectHandler: fn('ws-disconnect'),
      messageHandler: fn('ws-subscribe'),
      logRetention: props.logRetention,
      loggingDependency: logging,
    });

    this.bus.route(
      'EmergencyStopRule',
      { source: [CONTROL_SOURCE], detailType: [EMERGENCY_STOP_RAISED] },
      { description: 'Emergency stop raised: stop and roll back every running experiment', target: fn('emergency-stop') },
    );
    this.progressQueue = new OrderedEventQueue(this, 'ProgressQueue', { consumer: this.required('ws-broadcast').function });
    this.bus.routeInOrder('ProgressRule', { source: [PROGRESS_SOURCE] }, {
      description: 'Lifecycle progress: broadcast to WebSocket subscribers, in order per experiment',
      queue: this.progressQueue,
      messageGroupId: EventField.fromPath('$.detail.experimentId'),
      // Progress that arrives late is noise: the journal in DynamoDB has every event anyway.
      maxEventAge: Duration.minutes(10),
    });
    this.bus.schedule('RecoverySweepSchedule', Schedule.rate(Duration.minutes(5)), {
      description: 'Recovery sweep: roll back experiments whose run is gone',
      target: fn('recovery-sweep'),
      // A sweep that could not be delivered is superseded by the next one.
      maxEventAge: Duration.minutes(5),
    });

    this.gameDayRules = new Map(
      gameDays.map((gameDay) => [
        gameDay.name,
        this.bus.schedule(`GameDay-${gameDay.name}`, Schedule.expression(gameDay.schedule), {
          description: `Game day ${gameDay.name}: submit its experiment (${gameDay.schedule})`,
          target: fn('scheduled-experiment'),
          input: RuleTargetInput.fromObject({ game_day: gameDay.name, experiment: gameDay.experiment, scheduled_at: EventField.time }),
          // A game day runs at its time or not at all: one EventBridge could not deliver within the hour goes to the
          // dead-letter queue rather than start long after the people watching it have left.
          maxEventAge: Duration.hours(1),
        }),
      ]),
    );

    const resources = {
      table: this.table,
      bus: this.bus,
      stateMachines: this.stateMachines,
      webSocket: this.webSocket,
      guardrails: props.guardrails ?? {},
      chaosTagKey: props.chaosTargetTagKey ?? DEFAULT_CHAOS_TAG_KEY,
      targetRoleArns,
      eksClusters,
      agentImage: props.agentImage,
      apiFunction: fn('api'),
      analysisFunctionName: analysisFunctionName(this.stackName),
      anthropicSecretArn: props.anthropicSecretArn,
    };
    for (const name of FUNCTION_NAMES) applyAccess(this.required(name), FUNCTIONS[name], resources);

    new CfnOutput(this, 'RestApiUrl', { value: this.restApi.url, description: 'REST API base URL (SigV4-signed requests)' });
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocket.url, description: 'WebSocket URL for progress (SigV4-signed $connect)' });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName, description: 'Control plane event bus' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'Experiments, journals, rollback stacks, connections' });
    const kubernetesRoles = FUNCTION_NAMES.filter((name) => 'kubernetes' in FUNCTIONS[name]).map((name) => this.required(name).role.roleArn);
    new CfnOutput(this, 'KubernetesRoleArns', {
      value: Fn.join(',', kubernetesRoles),
      description: `Roles of the functions that talk to Kubernetes: each needs an access entry in group ${KUBERNETES_GROUP} on a cluster not in chaosduck:eksClusters`,
    });
    new CfnOutput(this, 'OrchestratorArn', { value: this.stateMachines.orchestrator.stateMachineArn, description: 'Experiment state machine' });
  }

  private required(name: ControlPlaneFunctionName): ControlPlaneFunction {
    const found = this.functions.get(name);
    if (!found) throw new Error(`no function ${name}`);
    return found;
  }
}

/** A complete Secrets Manager secret ARN (with its six-character suffix), so the grant names exactly that secret. */
export function assertSecretArn(arn: string, where: string): void {
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/.test(arn)) {
    throw new Error(`${where}: ${arn} is not the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)`);
  }
}

/**
 * The analysis function's name, fixed: the HYPOTHESIS task invokes it, and naming it by reference would close a cycle
 * (analysis → API function → state machines → HYPOTHESIS task → analysis).
 */
export const analysisFunctionName = (stackName: string): string => `${stackName.slice(0, 55)}-analysis`;
