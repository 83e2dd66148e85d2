/**
 * Dependencies for the Lambda runtime, read from the environment once per container and failing fast on a missing
 * variable. Built lazily, on the first invocation, so importing a handler module has no side effects. Progress events
 * are logged and counted as they are published (`observedPublisher`), and every log line of a task carries its
 * experiment, phase and execution (`lambdaHandler`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { FaultDriver } from '../faults/driver.js';
import { awsClientFactory, type AwsClientFactory } from '../faults/aws/clients.js';
import type { Phase } from '../model/lifecycle.js';
import { observed, observedPublisher, stringAt, type LogKeys } from '../observability/lambda.js';
import { DynamoDbStore } from '../store/dynamodb.js';
import { builtOnFirstCall, required } from './lambda-entry.js';
import { guardrailsFromEnv } from './config.js';
import type { EventPublisher, LifecycleDeps } from './deps.js';
import type { TaskHandler } from './handler.js';

const PUT_EVENTS_LIMIT = 10;

/** Progress events go to the control plane's bus as `chaosduck.lifecycle` events, ten per PutEvents call. */
export function eventBridgePublisher(client: EventBridgeClient, busName: string): EventPublisher {
  return {
    async publish(events) {
      for (let i = 0; i < events.length; i += PUT_EVENTS_LIMIT) {
        const { FailedEntryCount } = await client.send(
          new PutEventsCommand({
            Entries: events.slice(i, i + PUT_EVENTS_LIMIT).map((e) => ({
              EventBusName: busName,
              Source: 'chaosduck.lifecycle',
              DetailType: e.type,
              Detail: JSON.stringify(e),
            })),
          }),
        );
        if (FailedEntryCount) throw new Error(`${FailedEntryCount} progress event(s) were not accepted by EventBridge`);
      }
    },
  };
}

/**
 * The deps of every lifecycle and control function. No fault driver unless given: only the functions that plan,
 * apply or revert faults add them (`withFaultDrivers`, lambda-kubernetes.ts), so the others' bundles carry no fault
 * actions; one that asked for a driver would be told by name that its provider is unavailable.
 */
export function lambdaDeps(aws: AwsClientFactory = awsClientFactory(), drivers: ReadonlyMap<string, FaultDriver> = new Map()): LifecycleDeps {
  const tableName = required('TABLE_NAME');
  const busName = required('EVENT_BUS_NAME');
  return {
    store: new DynamoDbStore({ client: new DynamoDBClient({}), tableName }),
    events: observedPublisher(eventBridgePublisher(new EventBridgeClient({}), busName)),
    drivers,
    guardrails: guardrailsFromEnv(),
    runtime: 'lambda',
    runtimeId: 'aws',
    clock: Date.now,
    random: Math.random,
    aws,
  };
}

/** What a lifecycle task runs: one of the five phases, or the tasks before and after them. */
export type TaskStep = Phase | 'BEGIN' | 'FINISH';

/**
 * The keys of a lifecycle task's log lines, from its input as the state machine passes it: Begin's
 * `{experimentId, executionArn}`, every later task's `experiment` (whose `executionArn` Begin set).
 */
export function lifecycleKeys(phase: TaskStep): (event: unknown) => LogKeys {
  return (event) => ({
    phase,
    experiment_id: stringAt(event, 'experimentId') ?? stringAt(event, 'experiment', 'id'),
    execution: stringAt(event, 'executionArn') ?? stringAt(event, 'experiment', 'executionArn'),
  });
}

/** A lifecycle task as a Lambda function: its handler built on the first invocation, its log lines keyed by experiment. */
export function lambdaTask<O>(phase: TaskStep, build: () => TaskHandler<O>): TaskHandler<O> {
  return observed(builtOnFirstCall(build), lifecycleKeys(phase));
}

/** The Lambda entry point for a handler factory: deps are built on the first invocation and kept for the container. */
export function lambdaHandler<O>(phase: TaskStep, create: (deps: LifecycleDeps) => TaskHandler<O>): TaskHandler<O> {
  return lambdaTask(phase, () => create(lambdaDeps()));
}


