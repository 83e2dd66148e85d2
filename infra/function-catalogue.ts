/**
 * Every Lambda function of the control plane, in one table: who invokes it and what it may touch. Adding a function
 * is one entry here plus its folder `functions/<name>/`: `handler.ts` (the handler over its core, which the embedded
 * runtime uses too) and `lambda.ts` (its Lambda entry point, exporting `handler`). Each access below is applied
 * in `capabilities.ts`, which sets the environment variable and grants the matching permission together.
 */
import type { FunctionName } from '../functions/registry.js';
import { CONTROL_SOURCE } from '../shared/lifecycle/aws-control.js';
import { PROGRESS_SOURCE } from '../shared/websocket/events.js';
import type { EventSource } from './constructs/control-bus.js';

/**
 * Who invokes the function; EventBridge targets are invoked asynchronously and get the dead-letter queue. An
 * `ordered-queue` function consumes the FIFO queue a bus rule sends to (`OrderedEventQueue`), for events that must
 * arrive in order; the queue has its own dead-letter queue.
 */
export type Invoker = 'state-machine' | 'rest-api' | 'websocket-route' | 'event-rule' | 'ordered-queue';

export type ExecutionAccess = 'start' | 'stop' | 'describe';

export interface FunctionSpec {
  readonly description: string;
  readonly invokedBy: Invoker;
  /** @default 30 */
  readonly timeoutSeconds?: number;
  /** @default 512 */
  readonly memoryMb?: number;
  /** `TABLE_NAME` and item reads/writes; `with-indexes` adds Query on the GSIs (lists by status, by creation time). */
  readonly table?: 'items' | 'with-indexes';
  /**
   * `EVENT_BUS_NAME`, and PutEvents for these sources only. An empty list still sets the name: the control
   * dependencies (`lambdaControl`) are built whole, so they need it even in functions that publish nothing.
   */
  readonly bus?: readonly EventSource[];
  /** `STATE_MACHINE_ARN` (the orchestrator) and these operations on its executions. */
  readonly experiments?: readonly ExecutionAccess[];
  /** `MAX_TIMEOUT_SECONDS` / `PRODUCTION_PATTERN`, when the deployer sets them: the guardrails this function checks. */
  readonly guardrails?: boolean;
  /** EC2/RDS fault actions on resources tagged as chaos targets (`FaultInjectionPolicy`). */
  readonly faults?: boolean;
  /**
   * `CHAOS_TAG_KEY` and the read-only EC2/RDS Describe actions: the AWS topology (`GET /api/topology/aws`) and dry
   * runs of AWS experiments, which resolve and prepare faults without applying them.
   */
  readonly awsRead?: boolean;
  /** cloudwatch:DescribeAlarms, for `cloudwatch_alarm` probes. */
  readonly alarmProbes?: boolean;
  /** `WS_ENDPOINT` and execute-api:ManageConnections (POST @connections) on the WebSocket API's stage. */
  readonly websocketPost?: boolean;
  /**
   * sts:AssumeRole on the role ARNs the deployer allows (`chaosduck:targetRoleArns`), for experiments and alarm
   * probes that name a `role_arn` in another account. Nothing is granted when the deployer allows none.
   */
  readonly targetRoles?: boolean;
  /**
   * Kubernetes through EKS (the handler imports `lambda-kubernetes.ts`): eks:DescribeCluster, and an access entry in
   * the Kubernetes group `chaosduck` on each cluster the deployer lists (`chaosduck:eksClusters`), see `EksAccess`.
   */
  readonly kubernetes?: boolean;
  /**
   * `API_FUNCTION_NAME` and lambda:InvokeFunction on the API function: the analysis function asks it for dry runs and
   * the topology, as a client would, rather than carrying the fault drivers and the Kubernetes client itself.
   */
  readonly invokesApi?: boolean;
  /**
   * `ANTHROPIC_SECRET_ARN` and secretsmanager:GetSecretValue on that secret, when the deployer names one
   * (`chaosduck:anthropicSecretArn`): the key that lets the function ask Claude. Without it, the offline analyst answers.
   */
  readonly anthropicSecret?: boolean;
  /**
   * When the deployer gives Claude a key (`chaosduck:anthropicSecretArn`): `ANALYSIS_FUNCTION_NAME` and
   * lambda:InvokeFunction on the analysis function, which the HYPOTHESIS task asks for Claude's prediction.
   */
  readonly invokesAnalysis?: boolean;
}

const LIFECYCLE: readonly EventSource[] = [PROGRESS_SOURCE];
const CONTROL: readonly EventSource[] = [CONTROL_SOURCE];

/** Lifecycle tasks are keyed by their registry name, which is also their ASL placeholder (`${RunProbesFunctionArn}`). */
export const FUNCTIONS = {
  begin: {
    description: 'Lifecycle task: claims the experiment for this run and computes its deadlines',
    invokedBy: 'state-machine',
    table: 'items',
    bus: LIFECYCLE,
  },
  'run-probes': {
    description: 'Lifecycle STEADY_STATE: runs the probes once for the baseline',
    invokedBy: 'state-machine',
    timeoutSeconds: 300,
    table: 'items',
    bus: LIFECYCLE,
    alarmProbes: true,
    targetRoles: true,
    // k8s probes read the cluster an experiment names.
    kubernetes: true,
  },
  'form-hypothesis': {
    description: 'Lifecycle HYPOTHESIS: states what must hold while the fault is in place',
    invokedBy: 'state-machine',
    timeoutSeconds: 60,
    table: 'items',
    bus: LIFECYCLE,
    invokesAnalysis: true,
  },
  inject: {
    description: 'Lifecycle INJECT: guardrails and leases, then write-ahead rollback and apply each fault',
    invokedBy: 'state-machine',
    // Applying a fault can wait on the resource (an instance stopping, a cluster failing over).
    timeoutSeconds: 900,
    table: 'items',
    bus: LIFECYCLE,
    guardrails: true,
    faults: true,
    targetRoles: true,
    kubernetes: true,
  },
  observe: {
    description: 'Lifecycle OBSERVE: one tick of probes; the state machine waits between ticks',
    invokedBy: 'state-machine',
    timeoutSeconds: 300,
    table: 'items',
    bus: LIFECYCLE,
    alarmProbes: true,
    // Ends faults early on their own schedule (ec2_stop's start_after_seconds: StartInstances, DeleteTags).
    faults: true,
    targetRoles: true,
    kubernetes: true,
  },
  rollback: {
    description: 'Lifecycle ROLLBACK: reverts rollback-stack entries newest first within a time budget',
    invokedBy: 'state-machine',
    // A single revert can wait on the resource as long as applying it did.
    timeoutSeconds: 900,
    table: 'items',
    bus: LIFECYCLE,
    faults: true,
    targetRoles: true,
    kubernetes: true,
  },
  finish: {
    description: 'Lifecycle task: decides the outcome, releases leases and writes the journal',
    invokedBy: 'state-machine',
    timeoutSeconds: 60,
    table: 'items',
    bus: LIFECYCLE,
  },
  analysis: {
    description: 'REST API under /api/analysis: resilience scores and trends, experiment analysis, hypotheses, natural language to experiment, reports',
    invokedBy: 'rest-api',
    // API Gateway gives up on an integration after 29 seconds; Claude's requests are bounded below that.
    timeoutSeconds: 29,
    table: 'with-indexes',
    // POST /api/analysis/predict validates an experiment as the API does.
    guardrails: true,
    invokesApi: true,
    anthropicSecret: true,
  },
  api: {
    description: 'REST API: experiments, dry runs, rollback requests and the emergency stop',
    // API Gateway gives up on an integration after 29 seconds.
    invokedBy: 'rest-api',
    timeoutSeconds: 29,
    table: 'with-indexes',
    bus: CONTROL,
    experiments: ['start', 'stop'],
    guardrails: true,
    awsRead: true,
    // Dry runs resolve the targets an experiment names, in the account its role_arn reaches.
    targetRoles: true,
    // Dry runs of kubernetes experiments and GET /api/topology/k8s.
    kubernetes: true,
  },
  'emergency-stop': {
    description: 'Emergency-stop fan-out: stops every running experiment and starts its rollback run',
    invokedBy: 'event-rule',
    timeoutSeconds: 300,
    table: 'with-indexes',
    bus: [],
    // describe: an experiment already in a rollback run is left to it only while that run is going.
    experiments: ['start', 'stop', 'describe'],
  },
  'scheduled-experiment': {
    description: 'Scheduled game days: submits the experiment of a game day once per scheduled time',
    invokedBy: 'event-rule',
    // submitExperiment only: validate, read the emergency stop, bind the idempotency key, store, start.
    table: 'items',
    bus: [],
    experiments: ['start'],
    // Validates as the API does: the deployed timeout cap and production rule.
    guardrails: true,
  },
  'recovery-sweep': {
    description: 'Recovery sweep: rolls back experiments whose execution is gone',
    invokedBy: 'event-rule',
    // Well inside the five-minute schedule, so sweeps do not overlap.
    timeoutSeconds: 120,
    table: 'with-indexes',
    bus: [],
    experiments: ['start', 'describe'],
  },
  'ws-connect': {
    description: 'WebSocket $connect: records the connection and its initial subscription',
    invokedBy: 'websocket-route',
    timeoutSeconds: 10,
    memoryMb: 256,
    table: 'items',
  },
  'ws-disconnect': {
    description: 'WebSocket $disconnect: forgets the connection and its subscriptions',
    invokedBy: 'websocket-route',
    timeoutSeconds: 10,
    memoryMb: 256,
    table: 'items',
  },
  'ws-subscribe': {
    description: 'WebSocket subscribe/unsubscribe/$default: changes subscriptions and answers on the connection',
    invokedBy: 'websocket-route',
    timeoutSeconds: 10,
    memoryMb: 256,
    table: 'items',
    websocketPost: true,
  },
  'ws-broadcast': {
    description: 'Delivers lifecycle progress events to the subscribed WebSocket connections',
    // From a FIFO queue grouped by experiment, so each experiment's events reach the connections in order.
    invokedBy: 'ordered-queue',
    timeoutSeconds: 60,
    memoryMb: 256,
    table: 'items',
    websocketPost: true,
  },
} as const satisfies Record<FunctionName, FunctionSpec> & Record<string, FunctionSpec>;

export type ControlPlaneFunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as ControlPlaneFunctionName[];

/** Why a synchronously invoked function has no dead-letter queue (see `ControlPlaneFunctionProps`). */
export const SYNC_INVOCATION: Record<Exclude<Invoker, 'event-rule'>, string> = {
  'state-machine': 'Step Functions invokes it synchronously as a Task; failures go to the ASL Retry/Catch',
  'rest-api': 'API Gateway invokes it synchronously (proxy integration); failures are the HTTP response',
  'websocket-route': 'API Gateway invokes it synchronously for a WebSocket route; failures are the route response',
  'ordered-queue':
    "Its SQS event source mapping invokes it synchronously with a batch from the FIFO queue; records it reports failed return to the queue, and the queue's redrive policy moves them to the queue's own dead-letter queue",
};

/** Where a function's handler lives, by the folder convention. */
export const entryOf = (name: ControlPlaneFunctionName): string => `functions/${name}/lambda.ts`;
