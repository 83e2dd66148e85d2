/**
 * An SQS FIFO queue between a bus rule and the one function that consumes it, for events that must arrive in order:
 * EventBridge invokes a Lambda target asynchronously, with no order, but sends to a FIFO queue with a message group
 * taken from the event, and the queue hands each group to the function in order, one batch of a group at a time.
 * Records the function keeps failing move to the queue's own FIFO dead-letter queue (a FIFO queue takes only a FIFO
 * one). Deduplication is by content: the body is the whole EventBridge event, whose `id` makes every event distinct
 * and a redelivered one identical.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { EventSourceMapping, type Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';
import { deadLetterQueue } from './dead-letter-queue.js';

export interface OrderedEventQueueProps {
  /**
   * The function that consumes the queue. Its handler must answer an SQS batch with `batchItemFailures` (the
   * mapping reports batch item failures), listing the first record it could not handle and every one after it.
   */
  readonly consumer: LambdaFunction;
  /**
   * Receives before a record is moved to the dead-letter queue. A failed record holds back the rest of its group
   * until it is received again (after the visibility timeout), so this also bounds how long a group can be stuck.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long a dead-lettered record is kept.
   * @default Duration.days(14)
   */
  readonly deadLetterRetention?: Duration;
}

/** Records per invocation; FIFO event source mappings take at most 10. */
export const BATCH_SIZE = 10;

export class OrderedEventQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly eventSourceMapping: EventSourceMapping;

  constructor(scope: Construct, id: string, props: OrderedEventQueueProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters', {
      deadLetterFor: 'the ordered event queue',
      fifo: true,
      retention: props.deadLetterRetention,
    });

    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      contentBasedDeduplication: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for a Lambda event source: six times the function's timeout, so a record is not received
      // again while an invocation (with the mapping's retries of throttled invocations) may still be handling it.
      visibilityTimeout: Duration.seconds(6 * (props.consumer.timeout ?? Duration.seconds(3)).toSeconds()),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    // Receive, change visibility and delete on this queue only.
    this.queue.grantConsumeMessages(props.consumer);
    this.eventSourceMapping = new EventSourceMapping(this, 'Consumer', {
      target: props.consumer,
      eventSourceArn: this.queue.queueArn,
      batchSize: BATCH_SIZE,
      reportBatchItemFailures: true,
    });
    Validations.of(cfnOf(this.eventSourceMapping)).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'Lambda takes an on-failure destination only for stream and Kafka event sources, not SQS; records that keep failing move to this queue\'s FIFO dead-letter queue by its redrive policy',
    });
  }

  /** The bus rule target: the whole event, in the message group the JSON path `messageGroupId` picks from it. */
  target(options: { messageGroupId: string; deadLetterQueue: IQueue; maxEventAge: Duration }): SqsQueue {
    return new SqsQueue(this.queue, options);
  }
}
