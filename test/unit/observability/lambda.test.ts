/**
 * Logs and metrics as the Lambda functions write them (Powertools Logger and Metrics, read back from the process's
 * output): a lifecycle task's lines keyed by experiment, phase and execution; its events as lines and as EMF metrics
 * under the names of `metrics.ts`; the REST functions' request line.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { phaseInputSchema } from '../../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../../shared/lifecycle/deps.js';
import { event } from '../../../shared/lifecycle/events.js';
import { taskHandler } from '../../../shared/lifecycle/handler.js';
import { lambdaTask } from '../../../shared/lifecycle/lambda-deps.js';
import type { JournalEvent } from '../../../shared/model/lifecycle.js';
import { NAMESPACE, metrics, observedPublisher, observedRest, publishPoints } from '../../../shared/observability/lambda.js';
import { log } from '../../../shared/observability/log.js';
import { METRICS, pointsOf } from '../../../shared/observability/metrics.js';
import { captureOutput } from '../../support/log.js';

const context = (requestId: string): Context =>
  ({
    functionName: 'chaosduck-observe',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:chaosduck-observe',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => 60_000,
  }) as unknown as Context;

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:chaosduck-experiment:exp-1-run-1';
const input = (id: string, executionArn?: string) => ({
  experiment: {
    id,
    spec: { name: 'x', chaos_type: 'pod_delete', target: { labels: { app: 'demo' } } },
    deadline: Date.now() + 60_000,
    phaseTimeoutSeconds: 60,
    rollbackTimeoutSeconds: 300,
    ...(executionArn ? { executionArn } : {}),
  },
});

/** EMF lines: the metric each carries, with its dimensions and values. */
const emf = (lines: Record<string, any>[]) =>
  lines
    .filter((line) => line._aws)
    .map((line) => {
      const [directive] = line._aws.CloudWatchMetrics;
      const [metric] = directive.Metrics;
      return {
        namespace: directive.Namespace,
        dimensions: Object.fromEntries((directive.Dimensions[0] as string[]).map((name) => [name, line[name]])),
        name: metric.Name,
        unit: metric.Unit,
        value: line[metric.Name],
      };
    });

let output: ReturnType<typeof captureOutput> | undefined;
afterEach(() => output?.restore());

describe('a lifecycle task in Lambda', () => {
  // A task as the lifecycle's are built (zod-parsed input, a core), whose core logs and publishes progress events
  // through the Lambda publisher, in front of one that keeps what reaches EventBridge.
  const published: JournalEvent[][] = [];
  const events = observedPublisher({ publish: async (batch) => void published.push([...batch]) });
  const handler = lambdaTask('OBSERVE', () =>
    taskHandler(
      phaseInputSchema,
      async ({ experiment }) => {
        log.warn('probe answers-fast was slow', { probe: 'answers-fast' });
        await events.publish([
          event(experiment.id, 'probe.result', 'OBSERVE', { record: { activity: { provider: { type: 'http' } }, duration: 0.25, tolerance_met: true } }),
          event(experiment.id, 'probe.result', 'OBSERVE', { record: { activity: { provider: { type: 'http' } }, duration: 1.5, tolerance_met: true } }),
          event(experiment.id, 'phase.failed', 'OBSERVE', { halted: true, consecutiveFailures: 3 }),
        ]);
        return { done: true };
      },
      {} as LifecycleDeps, // this core reads no dependency
    ),
  );

  it('writes JSON lines that carry the experiment, the phase, the execution and the invocation, and its events as lines and EMF', async () => {
    output = captureOutput();

    await expect(handler(input('exp-1', EXECUTION), context('req-1'))).resolves.toEqual({ done: true });

    const lines = output.json();
    const logLines = lines.filter((line) => !line._aws);
    expect(logLines.map((line) => [line.level, line.message])).toEqual([
      ['WARN', 'probe answers-fast was slow'],
      ['INFO', 'probe.result'],
      ['INFO', 'probe.result'],
      ['INFO', 'phase.failed'],
    ]);
    for (const line of logLines) {
      expect(line).toMatchObject({
        experiment_id: 'exp-1',
        phase: 'OBSERVE',
        execution: EXECUTION,
        service: 'chaosduck',
        function_name: 'chaosduck-observe',
        function_request_id: 'req-1',
      });
    }
    expect(logLines[0]).toMatchObject({ probe: 'answers-fast' });
    expect(logLines[3]?.event).toMatchObject({ experimentId: 'exp-1', type: 'phase.failed', phase: 'OBSERVE', detail: { halted: true } });
    // Both probe durations under one line of the histogram's labels (unit Seconds); one halt counted.
    expect(emf(lines)).toEqual([
      {
        namespace: 'ChaosDuck',
        dimensions: { service: 'chaosduck', probe_type: 'http', within_tolerance: 'true' },
        name: 'chaosduck_probe_duration_seconds',
        unit: 'Seconds',
        value: [0.25, 1.5],
      },
      { namespace: 'ChaosDuck', dimensions: { service: 'chaosduck', cause: 'failed_health_checks' }, name: 'chaosduck_auto_halts_total', unit: 'Count', value: 1 },
    ]);
    expect(published.at(-1)?.map((e) => e.type)).toEqual(['probe.result', 'probe.result', 'phase.failed']);
  });

  it('keys each invocation by its own experiment, and logs a refused input with the keys read before parsing', async () => {
    output = captureOutput();

    await handler(input('exp-1', EXECUTION), context('req-1'));
    // Begun before Begin put the execution in the experiment: no execution key, rather than the last invocation's.
    await handler(input('exp-2'), context('req-2'));
    await expect(handler({ experiment: { id: 'exp-3', executionArn: 'arn:exp-3' } }, context('req-3'))).rejects.toMatchObject({ name: 'ValidationError' });

    const byRequest = (id: string) => output?.json().filter((line) => line.function_request_id === id) ?? [];
    expect(byRequest('req-2').length).toBeGreaterThan(0);
    for (const line of byRequest('req-2')) {
      expect(line).toMatchObject({ experiment_id: 'exp-2', phase: 'OBSERVE' });
      expect(line).not.toHaveProperty('execution');
    }
    expect(byRequest('req-3')).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'invocation failed',
        experiment_id: 'exp-3',
        phase: 'OBSERVE',
        execution: 'arn:exp-3',
        error: expect.objectContaining({ name: 'ValidationError', message: expect.stringContaining('experiment.spec') }),
      }),
    ]);
  });
});

describe('metrics as EMF', () => {
  it('writes one line per metric and label values, under the names of metrics.ts: counters added up, every observation kept', () => {
    const batch: JournalEvent[] = [
      event('exp-1', 'experiment.started', undefined, { chaos_type: 'pod_delete' }),
      event('exp-1', 'fault.applied', 'INJECT', { chaos_type: 'pod_delete', record: { status: 'succeeded' } }),
      event('exp-1', 'fault.applied', 'INJECT', { chaos_type: 'pod_delete', record: { status: 'succeeded' } }),
      event('exp-1', 'rollback.step', 'ROLLBACK', { state: 'done' }),
      event('exp-1', 'rollback.step', 'ROLLBACK', { state: 'failed' }),
      event('exp-1', 'rollback.step', 'ROLLBACK', { state: 'done' }),
      event('exp-1', 'experiment.finished', undefined, { status: 'emergency_stopped', chaos_type: 'pod_delete', safe_after_ms: 2500 }),
    ];
    output = captureOutput();

    publishPoints(metrics, pointsOf(batch));

    const service = 'chaosduck';
    expect(emf(output.json())).toEqual([
      { namespace: NAMESPACE, dimensions: { service, chaos_type: 'pod_delete' }, name: METRICS.experimentsStarted.name, unit: 'Count', value: 1 },
      { namespace: NAMESPACE, dimensions: { service, chaos_type: 'pod_delete' }, name: METRICS.faultsApplied.name, unit: 'Count', value: 2 },
      { namespace: NAMESPACE, dimensions: { service, outcome: 'done' }, name: METRICS.rollbackSteps.name, unit: 'Count', value: 2 },
      { namespace: NAMESPACE, dimensions: { service, outcome: 'failed' }, name: METRICS.rollbackSteps.name, unit: 'Count', value: 1 },
      {
        namespace: NAMESPACE,
        dimensions: { service, status: 'emergency_stopped', chaos_type: 'pod_delete' },
        name: METRICS.experimentsFinished.name,
        unit: 'Count',
        value: 1,
      },
      { namespace: NAMESPACE, dimensions: { service }, name: METRICS.timeToSafe.name, unit: 'Seconds', value: 2.5 },
    ]);
  });

  it('writes nothing for events that count nothing', () => {
    output = captureOutput();

    publishPoints(metrics, pointsOf([event('exp-1', 'hypothesis.formed', 'HYPOTHESIS', {})]));

    expect(output.text()).toBe('');
  });

  it('has a CloudWatch unit and few enough dimensions for every metric: histograms observe seconds, at most 28 labels beside service', () => {
    for (const definition of Object.values(METRICS)) {
      if (definition.kind === 'histogram') expect(definition.name).toMatch(/_seconds$/);
      expect(definition.labels.length).toBeLessThanOrEqual(28);
    }
  });
});

describe('a REST function in Lambda', () => {
  const request = (method: string, path: string, pathParameters: Record<string, string> | null = null) =>
    ({ httpMethod: method, path, pathParameters, headers: {}, body: null, requestContext: { requestId: `api-${method}` } }) as unknown as APIGatewayProxyEvent;
  const answer = (statusCode: number, body: unknown): APIGatewayProxyResult => ({ statusCode, body: JSON.stringify(body) });

  it("ends each request with one line carrying API Gateway's request id and the experiment it named or created", async () => {
    const handler = observedRest(async (e) => {
      if (e.httpMethod === 'POST') return answer(202, { id: 'exp-9', execution_arn: 'arn:exp-9-run', status: 'pending' });
      if (e.pathParameters?.id) return answer(200, { id: e.pathParameters.id });
      return answer(404, { error: { code: 'NOT_FOUND' } });
    });
    output = captureOutput();

    await handler(request('POST', '/api/chaos/experiments'), context('req-1'));
    await handler(request('GET', '/api/chaos/experiments/exp-4', { id: 'exp-4' }), context('req-2'));
    await handler(request('DELETE', '/nowhere'), context('req-3'));

    expect(output.json()).toEqual([
      expect.objectContaining({ message: 'request', request_id: 'api-POST', method: 'POST', path: '/api/chaos/experiments', status: 202, experiment_id: 'exp-9', execution: 'arn:exp-9-run' }),
      expect.objectContaining({ message: 'request', request_id: 'api-GET', status: 200, experiment_id: 'exp-4' }),
      expect.objectContaining({ message: 'request', request_id: 'api-DELETE', status: 404 }),
    ]);
    expect(output.json()[2]).not.toHaveProperty('experiment_id');
  });
});
