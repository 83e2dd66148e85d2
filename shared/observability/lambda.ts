/**
 * Observability of the Lambda functions, with Powertools Logger and Metrics. Only the Lambda entry points import this
 * module (functions/<name>/lambda.ts and the lambda-deps modules), so the embedded runtime never loads Powertools.
 *
 * Logs: one JSON object per line, which CloudWatch Logs Insights reads field by field. Every line of an invocation
 * carries the Lambda context (function_name, function_request_id, cold_start) and the keys the entry point reads from
 * its event — a lifecycle task's `experiment_id`, `phase` and `execution`, the REST API's `request_id` — reset
 * between invocations. Each lifecycle event published is a line too (its type as the message, the event under
 * `event`), so the lines of one `experiment_id` tell its run in order.
 *
 * Metrics: the names of `metrics.ts`, unchanged, in the namespace `ChaosDuck`, as embedded metric format (EMF) lines
 * that CloudWatch Logs turns into metrics without an API call. A name maps as it is:
 *
 * - a counter (`…_total`) is a metric of unit Count; its Sum over a period is what Prometheus' `increase()` says;
 * - a histogram (`…_seconds`) is a metric of unit Seconds holding every observed value; its statistics (SampleCount,
 *   Sum, Average, p50/p95/p99) stand for Prometheus' `_count`, `_sum` and buckets, as CloudWatch has no histograms;
 * - the dimensions are `service` (`chaosduck`) and the metric's labels with their values (`chaos_type`, `status`, …).
 *
 * Points are published when the events that make them are, one EMF line per metric and label values (an EMF line
 * gives each dimension one value, and a rollback's `done` and `failed` steps differ in theirs), so a task that fails
 * or times out afterwards has still counted what it did. Powertools' `logMetrics` middleware flushes one line per
 * invocation instead, and warns on every invocation that has nothing to count.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { EventPublisher } from '../lifecycle/deps.js';
import { setLogSink, type Log, type LogFields } from './log.js';
import { METRICS, pointsOf, type MetricKey, type MetricPoint } from './metrics.js';

export const SERVICE = 'chaosduck';
export const NAMESPACE = 'ChaosDuck';

export const logger = new Logger({ serviceName: SERVICE });
/** Its own warnings (a dimension value it refuses) go through the logger, as JSON lines with the invocation's keys. */
export const metrics = new Metrics({ namespace: NAMESPACE, serviceName: SERVICE, logger });

const extra = (fields: LogFields | undefined) => (fields ? [fields] : []);

/** The log port (`log.ts`) onto a Powertools logger. */
export function powertoolsLog(target: Logger): Log {
  return {
    info: (message, fields) => target.info(message, ...extra(fields)),
    warn: (message, fields) => target.warn(message, ...extra(fields)),
    error: (message, fields) => target.error(message, ...extra(fields)),
  };
}

const lambdaLog = powertoolsLog(logger);

/** Keys every line of an invocation carries; an undefined one is left out. */
export type LogKeys = Record<string, string | undefined>;

export type LambdaFunction<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * The handler as a Lambda function that logs through Powertools: the Lambda context and `keysOf(event)` on every line
 * of the invocation (read before the handler parses the event, so a refused event is logged with them too), and a
 * line for an invocation that fails. `more` are middlewares of the same chain, after these.
 */
export function observed<E, R>(handler: LambdaFunction<E, R>, keysOf: (event: E) => LogKeys, ...more: middy.MiddlewareObj<E, R>[]): LambdaFunction<E, R> {
  const keys: middy.MiddlewareObj<E, R> = {
    before: (request) => {
      setLogSink(lambdaLog);
      logger.appendKeys(definedKeys(keysOf(request.event)));
    },
    onError: (request) => {
      logger.error('invocation failed', { error: request.error });
    },
  };
  // No early timeout of its own: the handler's chain has one, and hands its signal to the core.
  return middy<E, R>(handler, { timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(keys)
    .use(more) as unknown as LambdaFunction<E, R>;
}

function definedKeys(keys: LogKeys): Record<string, string> {
  return Object.fromEntries(Object.entries(keys).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== ''));
}

/** A string found at `path` in an event not yet parsed, or undefined. */
export function stringAt(event: unknown, ...path: string[]): string | undefined {
  let value: unknown = event;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/**
 * A REST function (API Gateway's proxy integration): its lines carry API Gateway's `request_id`, and each request ends
 * with one line — method, path, status — that names the experiment where the request did: the `{id}` of its path, or
 * the one a `202 Accepted` created (with its `execution`).
 */
export function observedRest(handler: LambdaFunction<APIGatewayProxyEvent, APIGatewayProxyResult>): LambdaFunction<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const requestLine: middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> = {
    after: ({ event, response }) => {
      const status = response?.statusCode;
      logger.info('request', { method: event.httpMethod, path: event.path, status, ...definedKeys({ experiment_id: event.pathParameters?.id, ...acceptedKeys(response) }) });
    },
  };
  return observed(handler, (event) => ({ request_id: stringAt(event, 'requestContext', 'requestId') }), requestLine);
}

/** The experiment a `202 Accepted` answer started (`POST /api/chaos/experiments`): `{id, execution_arn, …}`. */
function acceptedKeys(response: APIGatewayProxyResult | null | undefined): LogKeys {
  if (response?.statusCode !== 202) return {};
  try {
    const body: unknown = JSON.parse(response.body);
    return { experiment_id: stringAt(body, 'id'), execution: stringAt(body, 'execution_arn') };
  } catch {
    return {};
  }
}

/**
 * Lifecycle events as they are published: each one a log line under its experiment's id, and the metric points it
 * makes (`pointsOf`) as EMF, before the events go on to `publisher`, so a publish that fails has still logged them.
 */
export function observedPublisher(publisher: EventPublisher): EventPublisher {
  return {
    async publish(events) {
      for (const event of events) logger.info(event.type, { experiment_id: event.experimentId, event });
      publishPoints(metrics, pointsOf(events));
      await publisher.publish(events);
    },
  };
}

/** The CloudWatch unit of a metric: every histogram observes seconds (its name ends in `_seconds`). */
export const unitOf = (metric: MetricKey) => (METRICS[metric].kind === 'counter' ? MetricUnit.Count : MetricUnit.Seconds);

/**
 * Writes metric points as EMF lines, one per metric and label values: a counter's increments added up into one value,
 * a histogram's observations kept each (CloudWatch computes the percentiles from them).
 */
export function publishPoints(target: Metrics, points: readonly MetricPoint[]): void {
  const groups = new Map<string, { metric: MetricKey; labels: Record<string, string>; values: number[] }>();
  for (const { metric, labels, value } of points) {
    const key = JSON.stringify([metric, Object.entries(labels).sort()]);
    const group = groups.get(key) ?? { metric, labels, values: [] };
    group.values.push(value);
    groups.set(key, group);
  }
  for (const { metric, labels, values } of groups.values()) {
    if (Object.keys(labels).length > 0) target.addDimensions(labels);
    const recorded = METRICS[metric].kind === 'counter' ? [values.reduce((sum, value) => sum + value, 0)] : values;
    for (const value of recorded) target.addMetric(METRICS[metric].name, unitOf(metric), value);
    target.publishStoredMetrics();
  }
}
