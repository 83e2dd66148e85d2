/**
 * The single-table layout, shared by the CDK table construct and the local runtime's CreateTable.
 *
 *   EXP#<id>  / META                    the experiment: spec, status, phase, timestamps, execution ARN
 *   EXP#<id>  / PHASE#<n>#<NAME>        one phase's result
 *   EXP#<id>  / EVENT#<iso>#<rand>      the journal's events, in time order
 *   EXP#<id>  / RB#<seq>                rollback stack entries (popped by seq, newest first)
 *   EXP#<id>  / JOURNAL                 the assembled journal, written when the experiment ends
 *   EXP#<id>  / SCORE, SCORE#TARGET,    its resilience score, one item per trend dimension (GSI2 partitions
 *               SCORE#SERVICE, SCORE#TYPE  `SCORES`, `SCORES#TARGET#<t>`, `SCORES#SERVICE#<s>`, `SCORES#TYPE#<c>`)
 *   LOCK#<target> / LEASE               a lease so two experiments never hold the same target
 *   CONTROL   / ESTOP                   the emergency-stop flag
 *   IDEMP#<key> / IDEMP                 an Idempotency-Key bound to the experiment its request created (24 h)
 *   CONN#<id> / META                    a WebSocket connection and its subscriptions
 *   SUB#<experiment or *> / CONN#<id>   one item per subscription, so an experiment's subscribers are one Query
 *
 * GSI1 indexes experiments by status (`STATUS#<status>`, sorted by creation time) so running experiments can be
 * found by the recovery sweep and lists can be filtered by status without a scan. GSI2 lists every experiment by
 * creation time (`EXPERIMENTS`) for unfiltered lists, and the resilience scores by when their experiment ended. Items with `expiresAt` (idempotency keys, WebSocket
 * connections) are removed by DynamoDB's TTL.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const GSI1 = 'gsi1';
export const GSI2 = 'gsi2';
export const TTL_ATTRIBUTE = 'expiresAt';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
      { AttributeName: 'gsi2pk', AttributeType: 'S' },
      { AttributeName: 'gsi2sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI1,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: GSI2,
        KeySchema: [
          { AttributeName: 'gsi2pk', KeyType: 'HASH' },
          { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
