/**
 * The control plane's EventBridge bus and the rules that turn its events into function invocations. Publishers are
 * granted PutEvents for one `source` only (the `events:source` condition), so a lifecycle task cannot raise an
 * emergency stop and the API cannot forge lifecycle progress. Events that cannot be delivered — by EventBridge to a
 * target, or by Lambda after its asynchronous retries — land in one dead-letter queue. Events that must arrive in
 * order go to an `OrderedEventQueue` (SQS FIFO) instead of straight to a function.
 */
import { Duration } from 'aws-cdk-lib';
import { EventBus, type EventPattern, Rule, type RuleTargetInput, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.js';
import type { OrderedEventQueue } from './ordered-event-queue.js';
import type { CONTROL_SOURCE } from '../../shared/lifecycle/aws-control.js';
import type { PROGRESS_SOURCE } from '../../shared/websocket/events.js';

/** The sources publishers put events as; the constants are the ones the publishing code uses. */
export type EventSource = typeof PROGRESS_SOURCE | typeof CONTROL_SOURCE;

export interface ControlBusProps {
  /**
   * How long an undeliverable event is kept in the dead-letter queue.
   * @default Duration.days(14)
   */
  readonly deadLetterRetention?: Duration;
}

export interface RouteOptions {
  readonly description: string;
  readonly target: IFunction;
  /**
   * How long EventBridge keeps retrying delivery before dead-lettering the event.
   * @default Duration.hours(24)
   */
  readonly maxEventAge?: Duration;
  /**
   * What the function receives instead of the event (a schedule's fixed input, with fields of the event in it).
   * @default - the event itself
   */
  readonly input?: RuleTargetInput;
}

export interface OrderedRouteOptions {
  readonly description: string;
  /** The FIFO queue the events go to; its consumer gets them in order per message group. */
  readonly queue: OrderedEventQueue;
  /** The message group of an event, as a JSON path into it (`EventField.fromPath('$.detail.experimentId')`). */
  readonly messageGroupId: string;
  /**
   * How long EventBridge keeps retrying delivery to the queue before dead-lettering the event.
   * @default Duration.hours(24)
   */
  readonly maxEventAge?: Duration;
}

export class ControlBus extends Construct {
  readonly eventBus: EventBus;
  /**
   * Undeliverable events: EventBridge target failures (to a function or to an ordered queue) and failed asynchronous
   * Lambda invocations. A standard queue: EventBridge takes no FIFO dead-letter queue.
   */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ControlBusProps = {}) {
    super(scope, id);
    this.eventBus = new EventBus(this, 'Bus', { description: 'ChaosDuck control plane: lifecycle progress and control events' });
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters', {
      deadLetterFor: 'the bus rules and the asynchronously invoked functions',
      retention: props.deadLetterRetention,
    });
  }

  get eventBusName(): string {
    return this.eventBus.eventBusName;
  }

  /** PutEvents on this bus, for events of one source only. */
  grantPutEvents(grantee: IGrantable, source: EventSource): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['events:PutEvents'],
      resourceArns: [this.eventBus.eventBusArn],
      conditions: { StringEquals: { 'events:source': [source] } },
    });
  }

  /** A rule on this bus that invokes a function for every matching event. */
  route(id: string, pattern: EventPattern, options: RouteOptions): Rule {
    return new Rule(this, id, {
      eventBus: this.eventBus,
      description: options.description,
      eventPattern: pattern,
      targets: [this.target(options)],
    });
  }

  /**
   * A rule on this bus that sends every matching event to an ordered (FIFO) queue, in the message group picked from
   * the event: EventBridge's own delivery to a function is asynchronous and keeps no order.
   */
  routeInOrder(id: string, pattern: EventPattern, options: OrderedRouteOptions): Rule {
    return new Rule(this, id, {
      eventBus: this.eventBus,
      description: options.description,
      eventPattern: pattern,
      targets: [
        options.queue.target({
          messageGroupId: options.messageGroupId,
          deadLetterQueue: this.deadLetterQueue,
          maxEventAge: options.maxEventAge ?? Duration.hours(24),
        }),
      ],
    });
  }

  /** A schedule (on the default bus, where schedules live) that invokes a function. */
  schedule(id: string, schedule: Schedule, options: RouteOptions): Rule {
    return new Rule(this, id, { description: options.description, schedule, targets: [this.target(options)] });
  }

  private target({ target, maxEventAge, input }: RouteOptions): LambdaFunction {
    return new LambdaFunction(target, { deadLetterQueue: this.deadLetterQueue, maxEventAge: maxEventAge ?? Duration.hours(24), event: input });
  }
}
