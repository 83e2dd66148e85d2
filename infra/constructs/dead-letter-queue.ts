import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { cfnOf } from './cfn-of.js';

export interface DeadLetterQueueProps {
  /** Whose failures end up here, for the acknowledgement that this queue has no dead-letter queue of its own. */
  readonly deadLetterFor: string;
  /** @default false */
  readonly fifo?: boolean;
  /** @default 14 days */
  readonly retention?: Duration;
}

/** An encrypted, TLS-only dead-letter queue; being the last stop, it has no dead-letter queue itself. */
export function deadLetterQueue(scope: Construct, id: string, props: DeadLetterQueueProps): Queue {
  const queue = new Queue(scope, id, {
    ...(props.fifo ? { fifo: true } : {}),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: props.retention ?? Duration.days(14),
  });
  Validations.of(cfnOf(queue)).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: `This queue is itself the dead-letter queue of ${props.deadLetterFor}; a dead-letter queue for it would only move the same messages`,
  });
  return queue;
}
