/**
 * The AWS side of the control ports over real HTTP against moto server: the Step Functions runner, the EventBridge
 * control bus and progress publisher, and the recovery sweep and the emergency-stop function (as Lambda runs it, its
 * log lines read back) with the real DynamoDB store on moto's DynamoDB.
 *
 * moto does not run the orchestrator (its Step Functions executions stay RUNNING until stopped), which is exactly
 * what these ports need: executions that can be started, described and stopped. EventBridge rules deliver to SQS
 * queues synchronously inside PutEvents, so a queue drained right after the call holds what the rule matched.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as emergencyStop } from '../../functions/emergency-stop/lambda.js';
import { FUNCTION_NAMES } from '../../functions/registry.js';
import { sweep } from '../../functions/recovery-sweep/handler.js';
import { CONTROL_SOURCE, EMERGENCY_STOP_RAISED, eventBridgeControlBus, stepFunctionsRunner, type AwsControlDeps } from '../../shared/lifecycle/aws-control.js';
import { DEFAULT_GUARDRAILS } from '../../shared/lifecycle/deps.js';
import { eventBridgePublisher } from '../../shared/lifecycle/lambda-deps.js';
import type { ExperimentRecord, ExperimentStatus, JournalEvent } from '../../shared/model/lifecycle.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { DynamoDbStore } from '../../shared/store/dynamodb.js';
import { consoleLog, setLogSink } from '../../shared/observability/log.js';
import { tableDefinition } from '../../shared/store/table.js';
import { functionArnKey, loadDefinition, machineArnKey, MACHINE_NAMES } from '../../statemachines/definitions.js';
import { captureOutput } from '../support/log.js';
import { createMotoQueue, MOTO_SETUP_TIMEOUT_MS, motoClientConfig, motoSdkEnv, overrideEnv, startMoto, type Moto, type MotoQueue } from '../support/moto.js';

const ACCOUNT = '123456789012'; // moto's default account
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/chaosduck-orchestrator`;
const BUS = 'chaosduck-control';
const TABLE = 'chaosduck-experiments';

let moto: Moto | undefined;
let sfn: SFNClient;
let eventBridge: EventBridgeClient;
let dynamodb: DynamoDBClient;

beforeAll(async () => {
  moto = await startMoto(); // the first run on a machine creates .venv and installs moto
  const config = motoClientConfig(moto.endpoint);
  sfn = new SFNClient(config);
  eventBridge = new EventBridgeClient(config);
  dynamodb = new DynamoDBClient(config);
}, MOTO_SETUP_TIMEOUT_MS);

afterAll(async () => {
  sfn?.destroy();
  eventBridge?.destroy();
  dynamodb?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto?.reset();
});

function endpointOf(): string {
  if (!moto) throw new Error('moto is not running');
  return moto.endpoint;
}

/** The orchestrator, from the real ASL file with made-up function and child-machine ARNs. */
async function createOrchestrator(): Promise<string> {
  const substitutions: Record<string, string> = {};
  for (const name of FUNCTION_NAMES) substitutions[functionArnKey(name)] = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:chaosduck-${name}`;
  for (const name of MACHINE_NAMES) substitutions[machineArnKey(name)] = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:chaosduck-${name}`;
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({ name: 'chaosduck-experiment', roleArn: ROLE_ARN, definition: JSON.stringify(loadDefinition('experiment', substitutions)) }),
  );
  if (!stateMachineArn) throw new Error('CreateStateMachine returned no ARN');
  return stateMachineArn;
}

async function describeExecution(executionArn: string) {
  const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { ...execution, input: JSON.parse(execution.input ?? 'null') as unknown };
}

/** A queue that receives whatever `pattern` matches on the control bus. */
async function subscribe(name: string, pattern: Record<string, unknown>): Promise<MotoQueue> {
  const queue = await createMotoQueue(endpointOf(), name);
  await eventBridge.send(new PutRuleCommand({ Name: name, EventBusName: BUS, EventPattern: JSON.stringify(pattern), State: 'ENABLED' }));
  await eventBridge.send(new PutTargetsCommand({ Rule: name, EventBusName: BUS, Targets: [{ Id: 'queue', Arn: queue.arn }] }));
  return queue;
}

type Delivered = { source: string; 'detail-type': string; detail: Record<string, unknown> };
const parse = (bodies: string[]) => bodies.map((body) => JSON.parse(body) as Delivered);

describe('stepFunctionsRunner on moto', () => {
  let stateMachineArn: string;
  beforeEach(async () => {
    stateMachineArn = await createOrchestrator();
  });

  it('starts an execution named after the experiment with {experimentId, mode, reason} as input', async () => {
    const runner = stepFunctionsRunner(sfn, stateMachineArn);

    const { executionArn } = await runner.start('exp-1234', 'run', '');

    expect(executionArn).toMatch(new RegExp(`^arn:aws:states:us-east-1:${ACCOUNT}:execution:chaosduck-experiment:exp-1234-run-\\d+$`));
    const execution = await describeExecution(executionArn);
    expect(execution.name).toMatch(/^exp-1234-run-\d+$/);
    expect(execution.stateMachineArn).toBe(stateMachineArn);
    expect(execution.input).toEqual({ experimentId: 'exp-1234', mode: 'run', reason: '' });
    expect(execution.status).toBe('RUNNING');
  });

  it('keeps execution names within the 80 characters Step Functions allows', async () => {
    const runner = stepFunctionsRunner(sfn, stateMachineArn);
    const id = `exp-${crypto.randomUUID()}`;

    const { executionArn } = await runner.start(id, 'rollback', 'recovered_after_crash');

    const execution = await describeExecution(executionArn);
    expect(execution.name?.length).toBeLessThanOrEqual(80);
    expect(execution.name?.startsWith(`${id}-rollback-`)).toBe(true);
    expect(execution.input).toEqual({ experimentId: id, mode: 'rollback', reason: 'recovered_after_crash' });
  });

  it('reports an execution running until it is stopped, and stopping it twice is fine', async () => {
    const runner = stepFunctionsRunner(sfn, stateMachineArn);
    const { executionArn } = await runner.start('exp-stop-me', 'run', '');
    expect(await runner.isRunning(executionArn)).toBe(true);

    await runner.stop(executionArn, 'emergency_stop');

    expect(await runner.isRunning(executionArn)).toBe(false);
    expect((await describeExecution(executionArn)).status).toBe('ABORTED');
    await expect(runner.stop(executionArn, 'emergency_stop')).resolves.toBeUndefined();
  });

  it('treats an execution that does not exist as stopped', async () => {
    const runner = stepFunctionsRunner(sfn, stateMachineArn);
    const unknownOfMachine = `arn:aws:states:us-east-1:${ACCOUNT}:execution:chaosduck-experiment:exp-nobody-run-1`;
    const unknownMachine = `arn:aws:states:us-east-1:${ACCOUNT}:execution:chaosduck-gone:exp-nobody-run-1`;
    // What the runner handles is what moto (and Step Functions) answers: ExecutionDoesNotExist.
    await expect(sfn.send(new StopExecutionCommand({ executionArn: unknownOfMachine }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: unknownMachine }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);

    for (const executionArn of [unknownOfMachine, unknownMachine]) {
      await expect(runner.stop(executionArn, 'emergency_stop')).resolves.toBeUndefined();
      expect(await runner.isRunning(executionArn)).toBe(false);
    }
  });
});

describe('EventBridge ports on moto', () => {
  beforeEach(async () => {
    await eventBridge.send(new CreateEventBusCommand({ Name: BUS }));
  });

  it('eventBridgeControlBus announces the emergency stop to the rule that fans it out', async () => {
    const fanOut = await subscribe('estop-fanout', { source: [CONTROL_SOURCE], 'detail-type': [EMERGENCY_STOP_RAISED] });
    const lifecycle = await subscribe('progress', { source: ['chaosduck.lifecycle'] });
    const stop = { active: true, since: '2025-01-01T00:00:00.000Z', reason: 'game day over' };

    await eventBridgeControlBus(eventBridge, BUS).emergencyStopRaised(stop);

    const delivered = parse(await fanOut.drain());
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ source: CONTROL_SOURCE, 'detail-type': EMERGENCY_STOP_RAISED, detail: stop });
    expect(await lifecycle.drain()).toEqual([]);
  });

  it('eventBridgePublisher publishes every journal event as chaosduck.lifecycle, ten per PutEvents call', async () => {
    const progress = await subscribe('progress', { source: ['chaosduck.lifecycle'] });
    const fanOut = await subscribe('estop-fanout', { source: [CONTROL_SOURCE] });
    const events: JournalEvent[] = Array.from({ length: 23 }, (_, n) => ({
      experimentId: 'exp-progress',
      at: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
      type: n === 0 ? 'experiment.started' : 'probe.result',
      phase: 'STEADY_STATE',
      detail: { n },
    }));
    // moto enforces the PutEvents limit, so the chunking is really exercised.
    const eleven = events.slice(0, 11).map((e) => ({ EventBusName: BUS, Source: 'chaosduck.lifecycle', DetailType: e.type, Detail: JSON.stringify(e) }));
    await expect(eventBridge.send(new PutEventsCommand({ Entries: eleven }))).rejects.toThrow(/less than or equal to 10/);

    await eventBridgePublisher(eventBridge, BUS).publish(events);

    const seq = (message: Delivered) => (message.detail.detail as { n: number }).n;
    const delivered = parse(await progress.drain()).sort((a, b) => seq(a) - seq(b));
    expect(delivered).toHaveLength(23);
    delivered.forEach((message, n) => {
      expect(message).toMatchObject({ source: 'chaosduck.lifecycle', 'detail-type': events[n]?.type, detail: events[n] });
    });
    expect(await fanOut.drain()).toEqual([]);
  });
});

describe('recovery sweep on moto (Step Functions + DynamoDB)', () => {
  let deps: AwsControlDeps;
  let stateMachineArn: string;

  beforeEach(async () => {
    stateMachineArn = await createOrchestrator();
    await dynamodb.send(new CreateTableCommand(tableDefinition(TABLE)));
    await eventBridge.send(new CreateEventBusCommand({ Name: BUS }));
    deps = {
      store: new DynamoDbStore({ client: dynamodb, tableName: TABLE }),
      events: eventBridgePublisher(eventBridge, BUS),
      drivers: new Map(),
      guardrails: DEFAULT_GUARDRAILS,
      runtime: 'lambda',
      runtimeId: 'aws',
      clock: Date.now,
      random: Math.random,
      runner: stepFunctionsRunner(sfn, stateMachineArn),
      control: eventBridgeControlBus(eventBridge, BUS),
    };
  });

  const spec = parseExperiment({
    name: 'moto-pod-delete',
    chaos_type: 'pod_delete',
    target: { provider: 'memory', labels: { app: 'demo' }, selection: 'COUNT(1)' },
    parameters: { duration_seconds: 0 },
    safety: { timeout_seconds: 60, max_blast_radius: 1 },
    probes: [],
  });

  async function stored(id: string, status: ExperimentStatus, minutesAgo: number, executionArn?: string): Promise<ExperimentRecord> {
    const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const record: ExperimentRecord = { id, spec, status, createdAt: at, updatedAt: at, ...(executionArn ? { executionArn } : {}) };
    await deps.store.createExperiment(record);
    return record;
  }

  /** The inputs of the orchestrator's executions in `mode`. */
  async function executionsIn(mode: string): Promise<unknown[]> {
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    const inputs = [];
    for (const { executionArn } of executions) {
      const execution = await describeExecution(executionArn ?? '');
      if ((execution.input as { mode?: string }).mode === mode) inputs.push({ ...(execution.input as object), status: execution.status });
    }
    return inputs;
  }

  it('starts a rollback run for experiments whose run is gone, and leaves live and just-created ones alone', async () => {
    // Prepare: a running experiment whose execution was stopped, one whose execution runs, a pending one created a
    // minute ago (its start may be in flight), one pending for ten minutes with no execution, and a finished one.
    const { executionArn: stopped } = await deps.runner.start('exp-crashed', 'run', '');
    await deps.runner.stop(stopped, 'lambda timed out');
    const { executionArn: live } = await deps.runner.start('exp-live', 'run', '');
    const { executionArn: done } = await deps.runner.start('exp-done', 'run', '');
    await deps.runner.stop(done, 'finished');
    await stored('exp-crashed', 'running', 3, stopped);
    await stored('exp-live', 'running', 3, live);
    await stored('exp-just-created', 'pending', 1);
    await stored('exp-never-started', 'pending', 10);
    await stored('exp-done', 'completed', 3, done);

    // Act
    const result = await sweep(deps);

    // Assess: the report, and the rollback executions in Step Functions.
    expect(result.recovered.sort()).toEqual(['exp-crashed', 'exp-never-started']);
    expect(await executionsIn('rollback')).toEqual(
      expect.arrayContaining([
        { experimentId: 'exp-crashed', mode: 'rollback', reason: 'recovered_after_crash', status: 'RUNNING' },
        { experimentId: 'exp-never-started', mode: 'rollback', reason: 'recovered_after_crash', status: 'RUNNING' },
      ]),
    );
    expect(await executionsIn('rollback')).toHaveLength(2);
    expect(await deps.runner.isRunning(live)).toBe(true);
  });

  it('the emergency-stop function rolls back every active experiment, and logs for each one a line with its experiment_id and rollback run', async () => {
    // Prepare: a running experiment, a pending one not started yet, one already in a live rollback run, one ended.
    const { executionArn: running } = await deps.runner.start('exp-running', 'run', '');
    const { executionArn: rollingBack } = await deps.runner.start('exp-rolling-back', 'rollback', 'manual');
    await stored('exp-running', 'running', 3, running);
    await stored('exp-pending', 'pending', 0);
    await stored('exp-rolling-back', 'running', 3, rollingBack);
    await deps.store.updateExperiment('exp-rolling-back', { phase: 'ROLLBACK' });
    await stored('exp-done', 'completed', 3);
    const event = { id: 'evt-estop-1', source: CONTROL_SOURCE, 'detail-type': EMERGENCY_STOP_RAISED, detail: { active: true, since: new Date().toISOString(), reason: 'drill' } };
    const context = {
      functionName: 'chaosduck-emergency-stop',
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:chaosduck-emergency-stop`,
      memoryLimitInMB: '256',
      awsRequestId: 'req-estop-1',
      getRemainingTimeInMillis: () => 60_000,
    } as unknown as Context;
    // What the function's configuration gives it in AWS; its SDK clients find moto through AWS_ENDPOINT_URL.
    const restoreEnv = overrideEnv({ ...motoSdkEnv(endpointOf()), TABLE_NAME: TABLE, EVENT_BUS_NAME: BUS, STATE_MACHINE_ARN: stateMachineArn });
    const output = captureOutput();

    // Act
    let result: { rolledBack: string[]; unreadable: string[] } | undefined;
    try {
      result = await emergencyStop(event, context);
    } finally {
      output.restore();
      restoreEnv();
      setLogSink(consoleLog); // the entry point sent this process's lines to Powertools
    }

    // Assess: each active experiment's run stopped and a rollback run started, each one logged under its own id.
    expect(result?.rolledBack.sort()).toEqual(['exp-pending', 'exp-running']);
    expect(result?.unreadable).toEqual([]);
    expect(await deps.runner.isRunning(running)).toBe(false);
    const lines = output.json().filter((line) => String(line.message).startsWith('emergency stop'));
    const lineOf = (id: string) => lines.find((line) => line.experiment_id === id);
    const rollbackRun = (id: string) => expect.stringMatching(new RegExp(`:execution:chaosduck-experiment:${id}-rollback-\\d+$`));
    expect(lines).toHaveLength(3);
    expect(lineOf('exp-running')).toMatchObject({ level: 'INFO', execution: rollbackRun('exp-running'), stopped_execution: running });
    expect(lineOf('exp-pending')).toMatchObject({ level: 'INFO', execution: rollbackRun('exp-pending') });
    expect(lineOf('exp-pending')).not.toHaveProperty('stopped_execution');
    expect(lineOf('exp-rolling-back')).toMatchObject({ level: 'INFO', message: expect.stringContaining('already rolling back'), execution: rollingBack });
    for (const line of lines) {
      expect(line).toMatchObject({ service: 'chaosduck', function_name: 'chaosduck-emergency-stop', function_request_id: 'req-estop-1', event_id: 'evt-estop-1' });
      expect(await deps.runner.isRunning(line.execution)).toBe(true);
    }
    expect(await executionsIn('rollback')).toEqual(
      expect.arrayContaining([
        { experimentId: 'exp-running', mode: 'rollback', reason: 'emergency_stop', status: 'RUNNING' },
        { experimentId: 'exp-pending', mode: 'rollback', reason: 'emergency_stop', status: 'RUNNING' },
        { experimentId: 'exp-rolling-back', mode: 'rollback', reason: 'manual', status: 'RUNNING' },
      ]),
    );
    expect(await executionsIn('rollback')).toHaveLength(3);
  });

  it('finds nothing to do when every experiment is still running', async () => {
    const { executionArn } = await deps.runner.start('exp-live', 'run', '');
    await stored('exp-live', 'running', 30, executionArn);

    expect(await sweep(deps)).toEqual({ recovered: [], unreadable: [] });
    expect(await executionsIn('rollback')).toEqual([]);
  });
});
