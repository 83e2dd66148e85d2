/**
 * Dependencies for the Lambda runtime, read from the environment once per container and failing fast on a missing
 * variable. Built lazily, on the first invocation, so importing a handler module has no side effects.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { FaultDriver } from '../faults/driver.js';
import { awsDriver } from '../faults/aws/index.js';
import { awsClientFactory, type AwsClientFactory } from '../faults/aws/clients.js';
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

export function lambdaDeps(aws: AwsClientFactory = awsClientFactory(), drivers: ReadonlyMap<string, FaultDriver> = new Map([['aws', awsDriver(aws)]])): LifecycleDeps {
  const tableName = required('TABLE_NAME');
  const busName = required('EVENT_BUS_NAME');
  return {
    store: new DynamoDbStore({ client: new DynamoDBClient({}), tableName }),
    events: eventBridgePublisher(new EventBridgeClient({}), busName),
    drivers,
    guardrails: guardrailsFromEnv(),
    runtime: 'lambda',
    runtimeId: 'aws',
    clock: Date.now,
    random: Math.random,
    aws,
  };
}

/** The Lambda entry point for a handler factory: deps are built on the first invocation and kept for the container. */
export function lambdaHandler<O>(create: (deps: LifecycleDeps) => TaskHandler<O>): TaskHandler<O> {
  return builtOnFirstCall(() => create(lambdaDeps()));
}


