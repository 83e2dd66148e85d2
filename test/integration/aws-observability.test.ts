/**
 * The lifecycle's Lambda entry points as Lambda runs them, against moto's DynamoDB and EventBridge: what they write
 * to stdout and stderr is CloudWatch's to read — JSON log lines keyed by experiment, phase and execution (the
 * execution Begin was given travelling on to the later tasks), and EMF metrics under the names of `metrics.ts`.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler as begin } from '../../functions/begin/lambda.js';
import { handler as formHypothesis } from '../../functions/form-hypothesis/lambda.js';
import type { ExperimentRecord } from '../../shared/model/lifecycle.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { METRICS } from '../../shared/observability/metrics.js';
import { DynamoDbStore } from '../../shared/store/dynamodb.js';
import { tableDefinition } from '../../shared/store/table.js';
import { captureOutput } from '../support/log.js';
import { MOTO_SETUP_TIMEOUT_MS, motoClientConfig, motoSdkEnv, overrideEnv, startMoto, type Moto } from '../support/moto.js';

const TABLE = 'chaosduck-experiments';
const BUS = 'chaosduck-control';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:chaosduck-experiment:exp-obs-1-run-1';

let moto: Moto | undefined;
let store: DynamoDbStore;
let dynamodb: DynamoDBClient;
let eventBridge: EventBridgeClient;
let restoreEnv: (() => void) | undefined;

beforeAll(async () => {
  moto = await startMoto();
  const config = motoClientConfig(moto.endpoint);
  dynamodb = new DynamoDBClient(config);
  eventBridge = new EventBridgeClient(config);
  await dynamodb.send(new CreateTableCommand(tableDefinition(TABLE)));
  await eventBridge.send(new CreateEventBusCommand({ Name: BUS }));
  store = new DynamoDbStore({ client: dynamodb, tableName: TABLE });
  // What the function's configuration gives it in AWS; its SDK clients find moto through AWS_ENDPOINT_URL.
  restoreEnv = overrideEnv({ ...motoSdkEnv(moto.endpoint), TABLE_NAME: TABLE, EVENT_BUS_NAME: BUS });
}, MOTO_SETUP_TIMEOUT_MS);

afterAll(async () => {
  restoreEnv?.();
  dynamodb?.destroy();
  eventBridge?.destroy();
  await moto?.stop();
});

let output: ReturnType<typeof captureOutput> | undefined;
afterEach(() => output?.restore());

const context = (functionName: string, requestId: string): Context =>
  ({
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => 30_000,
  }) as unknown as Context;

async function pending(id: string): Promise<void> {
  const spec = parseExperiment({
    name: 'observed-pod-delete',
    chaos_type: 'pod_delete',
    target: { labels: { app: 'demo' }, selection: 'COUNT(1)' },
    safety: { timeout_seconds: 60 },
  });
  const at = new Date().toISOString();
  const record: ExperimentRecord = { id, spec, status: 'pending', createdAt: at, updatedAt: at };
  await store.createExperiment(record);
}

describe('lifecycle tasks in Lambda', () => {
  it('log JSON lines keyed by experiment, phase and execution, and count the experiment started as an EMF metric', async () => {
    await pending('exp-obs-1');
    output = captureOutput();

    const begun = (await begin({ experimentId: 'exp-obs-1', mode: 'run', reason: '', executionArn: EXECUTION }, context('chaosduck-begin', 'req-begin'))) as {
      experiment: unknown;
    };
    await formHypothesis({ experiment: begun.experiment }, context('chaosduck-form-hypothesis', 'req-hypothesis'));

    const lines = output.json();
    const logged = lines.filter((line) => !line._aws);
    expect(logged.map((line) => [line.function_request_id, line.phase, line.message])).toEqual([
      ['req-begin', 'BEGIN', 'experiment.started'],
      ['req-hypothesis', 'HYPOTHESIS', 'hypothesis.formed'],
    ]);
    for (const line of logged) {
      expect(line).toMatchObject({ level: 'INFO', experiment_id: 'exp-obs-1', execution: EXECUTION, service: 'chaosduck', cold_start: expect.any(Boolean) });
    }
    expect(logged[0]?.event).toMatchObject({ type: 'experiment.started', detail: { chaos_type: 'pod_delete', executionArn: EXECUTION } });

    const metrics = lines.filter((line) => line._aws);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]?._aws.CloudWatchMetrics).toEqual([
      { Namespace: 'ChaosDuck', Dimensions: [['service', 'chaos_type']], Metrics: [{ Name: METRICS.experimentsStarted.name, Unit: 'Count' }] },
    ]);
    expect(metrics[0]).toMatchObject({ service: 'chaosduck', chaos_type: 'pod_delete', [METRICS.experimentsStarted.name]: 1 });
  });

  it('log a failed invocation as an ERROR line with the keys of its input, and nothing of the invocation before', async () => {
    output = captureOutput();

    await expect(
      begin({ experimentId: 'exp-obs-missing', mode: 'run', reason: '', executionArn: `${EXECUTION}-2` }, context('chaosduck-begin', 'req-missing')),
    ).rejects.toMatchObject({ name: 'NotFoundError' });

    expect(output.json()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'invocation failed',
        experiment_id: 'exp-obs-missing',
        phase: 'BEGIN',
        execution: `${EXECUTION}-2`,
        function_request_id: 'req-missing',
        error: expect.objectContaining({ name: 'NotFoundError' }),
      }),
    ]);
  });
});
