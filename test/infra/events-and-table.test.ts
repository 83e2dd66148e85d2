/**
 * The table and the bus as deployed: the table has exactly the keys and indexes of `tableDefinition` (what the
 * local runtime creates), with TTL, PITR and encryption; the bus rules and the schedule reach the right functions
 * and dead-letter what they cannot deliver; lifecycle progress goes through an encrypted SQS FIFO queue grouped by
 * experiment (with its own FIFO dead-letter queue) to ws-broadcast; publishers may put only their own source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneFunctionName } from '../../infra/function-catalogue.js';
import { CONTROL_SOURCE, EMERGENCY_STOP_RAISED } from '../../shared/lifecycle/aws-control.js';
import { TTL_ATTRIBUTE, tableDefinition } from '../../shared/store/table.js';
import { PROGRESS_SOURCE } from '../../shared/websocket/events.js';
import { type Json, type Synthesized, actionsOf, logicalId, statementsOfRole, synthControlPlane } from './support.js';

let synth: Synthesized;
beforeAll(() => {
  synth = synthControlPlane();
});
afterAll(() => synth.dispose());

const fnOf = (name: ControlPlaneFunctionName) => {
  const fn = synth.stack.functions.get(name);
  if (!fn) throw new Error(`no ${name} function`);
  return fn;
};
const tableProps = () => synth.template.toJSON().Resources[logicalId(synth.stack.table.table)].Properties as Json;
/** A list from the template or from `tableDefinition`, in name order, to compare regardless of order. */
const byName = (items: unknown, key: string) =>
  [...((items ?? []) as Array<Record<string, unknown>>)].sort((a, b) => String(a[key]).localeCompare(String(b[key])));

describe('table', () => {
  it('has the keys, attributes and indexes of tableDefinition', () => {
    const layout = tableDefinition('unused');
    const table = tableProps();
    expect(table.KeySchema).toEqual(layout.KeySchema);
    expect(byName(table.AttributeDefinitions, 'AttributeName')).toEqual(byName(layout.AttributeDefinitions, 'AttributeName'));
    expect(byName(table.GlobalSecondaryIndexes, 'IndexName')).toEqual(byName(layout.GlobalSecondaryIndexes, 'IndexName'));
    expect(table.GlobalSecondaryIndexes).toEqual(expect.arrayContaining([expect.objectContaining({ IndexName: 'gsi1' })]));
  });

  it('is on demand, with TTL on expiresAt, point-in-time recovery and KMS encryption, and is kept on stack deletion', () => {
    expect(TTL_ATTRIBUTE).toBe('expiresAt');
    expect(tableProps()).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(synth.template.toJSON().Resources[logicalId(synth.stack.table.table)].DeletionPolicy).toBe('Retain');
  });

  it('grants index queries only to the functions that list experiments or scores', () => {
    const querying = [...synth.stack.functions]
      .filter(([, fn]) => JSON.stringify(statementsOfRole(synth.template, logicalId(fn.role))).includes('/index/'))
      .map(([name]) => name);
    expect(querying.sort()).toEqual(['analysis', 'api', 'emergency-stop', 'recovery-sweep']);
  });

  it('names each index it grants, never index/*', () => {
    const statements = statementsOfRole(synth.template, logicalId(fnOf('api').role));
    const text = JSON.stringify(statements);
    expect(text).toContain('/index/gsi1');
    expect(text).not.toContain('/index/*');
  });
});

describe('event bus', () => {
  const rules = () => Object.values(synth.template.findResources('AWS::Events::Rule')) as Array<{ Properties: Json }>;
  const ruleWith = (predicate: (p: Json) => boolean) => {
    const found = rules().find((r) => predicate(r.Properties));
    if (!found) throw new Error('no such rule');
    return found.Properties;
  };
  const targetOf = (rule: Json) => (rule.Targets as Json[])[0] as Json;
  const dlq = () => ({ 'Fn::GetAtt': [logicalId(synth.stack.bus.deadLetterQueue), 'Arn'] });

  it('routes EmergencyStopRaised from chaosduck.control on the control bus to the emergency-stop function', () => {
    const rule = ruleWith((p) => JSON.stringify(p.EventPattern).includes(EMERGENCY_STOP_RAISED));
    expect(rule.EventPattern).toEqual({ source: [CONTROL_SOURCE], 'detail-type': [EMERGENCY_STOP_RAISED] });
    expect(CONTROL_SOURCE).toBe('chaosduck.control');
    expect(rule.EventBusName).toEqual({ Ref: logicalId(synth.stack.bus.eventBus) });
    expect(targetOf(rule)).toMatchObject({ Arn: { 'Fn::GetAtt': [logicalId(fnOf('emergency-stop').function), 'Arn'] }, DeadLetterConfig: { Arn: dlq() } });
  });

  it('routes lifecycle progress to the FIFO progress queue, grouped by experiment id, dead-lettering what it cannot send', () => {
    const rule = ruleWith((p) => JSON.stringify(p.EventPattern ?? {}).includes(PROGRESS_SOURCE));
    expect(rule.EventPattern).toEqual({ source: ['chaosduck.lifecycle'] });
    expect(rule.EventBusName).toEqual({ Ref: logicalId(synth.stack.bus.eventBus) });
    expect(rule.Targets).toHaveLength(1);
    expect(targetOf(rule)).toEqual({
      Id: expect.any(String),
      Arn: { 'Fn::GetAtt': [logicalId(synth.stack.progressQueue.queue), 'Arn'] },
      SqsParameters: { MessageGroupId: '$.detail.experimentId' },
      DeadLetterConfig: { Arn: dlq() },
      RetryPolicy: { MaximumEventAgeInSeconds: 600 },
    });
  });

  it('runs the recovery sweep every five minutes', () => {
    const rule = ruleWith((p) => p.ScheduleExpression !== undefined);
    expect(rule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(targetOf(rule)).toMatchObject({ Arn: { 'Fn::GetAtt': [logicalId(fnOf('recovery-sweep').function), 'Arn'] }, DeadLetterConfig: { Arn: dlq() } });
  });

  it('lets EventBridge invoke the two function targets, and not ws-broadcast, which only the progress queue feeds', () => {
    const permissions = Object.values(synth.template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'events.amazonaws.com' } })) as Array<{
      Properties: Json;
    }>;
    const invoked = permissions.map((p) => JSON.stringify(p.Properties.FunctionName));
    expect(invoked.sort()).toEqual(
      (['emergency-stop', 'recovery-sweep'] as const).map((name) => JSON.stringify({ 'Fn::GetAtt': [logicalId(fnOf(name).function), 'Arn'] })).sort(),
    );
  });

  it('lets each publisher put events of its own source only', () => {
    const sourcesOf = (name: ControlPlaneFunctionName) =>
      statementsOfRole(synth.template, logicalId(fnOf(name).role))
        .filter((s) => actionsOf(s).includes('events:PutEvents'))
        .map((s) => (s.Condition as { StringEquals: Record<string, string[]> }).StringEquals['events:source']);
    for (const name of ['begin', 'run-probes', 'form-hypothesis', 'inject', 'observe', 'rollback', 'finish'] as const) {
      expect(sourcesOf(name)).toEqual([['chaosduck.lifecycle']]);
    }
    expect(sourcesOf('api')).toEqual([['chaosduck.control']]);
    for (const name of ['emergency-stop', 'recovery-sweep', 'ws-connect', 'ws-broadcast'] as const) expect(sourcesOf(name)).toEqual([]);
  });
});

describe('progress queue', () => {
  const resources = () => synth.template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const queueId = () => logicalId(synth.stack.progressQueue.queue);
  const deadLetterId = () => logicalId(synth.stack.progressQueue.deadLetterQueue);
  const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
  const policyOf = (id: string) => {
    const policies = Object.values(synth.template.findResources('AWS::SQS::QueuePolicy')) as Array<{ Properties: Json }>;
    const found = policies.filter((p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: id }]));
    expect(found).toHaveLength(1);
    return (found[0]!.Properties.PolicyDocument as { Statement: Json[] }).Statement;
  };
  const denyInsecure = (id: string) => ({
    Effect: 'Deny',
    Action: 'sqs:*',
    Principal: { AWS: '*' },
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    Resource: arnOf(id),
  });

  it('is a FIFO queue, encrypted, deduplicating by content, with a FIFO dead-letter queue', () => {
    expect(resources()[queueId()]!.Properties).toEqual({
      FifoQueue: true,
      ContentBasedDeduplication: true,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: expect.any(Number),
      RedrivePolicy: { deadLetterTargetArn: arnOf(deadLetterId()), maxReceiveCount: 5 },
    });
    expect(resources()[deadLetterId()]!.Properties).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true });
  });

  it("keeps a record invisible for six times ws-broadcast's timeout while an invocation may still handle it", () => {
    const timeout = resources()[logicalId(fnOf('ws-broadcast').function)]!.Properties.Timeout as number;
    expect(resources()[queueId()]!.Properties.VisibilityTimeout).toBe(6 * timeout);
  });

  it('refuses requests without TLS on both queues, and takes messages from the progress rule only', () => {
    const rule = Object.entries(synth.template.findResources('AWS::Events::Rule')).find(([, r]) =>
      JSON.stringify((r as { Properties: Json }).Properties.EventPattern ?? {}).includes(PROGRESS_SOURCE),
    )![0];
    expect(policyOf(queueId())).toEqual([
      denyInsecure(queueId()),
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': arnOf(rule) } },
        Resource: arnOf(queueId()),
      },
    ]);
    expect(policyOf(deadLetterId())).toEqual([denyInsecure(deadLetterId())]);
  });

  it('feeds ws-broadcast through an event source mapping, ten records at a time, with batch item failures reported', () => {
    const mappings = Object.values(synth.template.findResources('AWS::Lambda::EventSourceMapping')) as Array<{ Properties: Json }>;
    expect(mappings.map((m) => m.Properties)).toEqual([
      {
        EventSourceArn: arnOf(queueId()),
        FunctionName: { Ref: logicalId(fnOf('ws-broadcast').function) },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
  });

  it('gives ws-broadcast no dead-letter queue of its own: it is not invoked asynchronously any more', () => {
    expect(resources()[logicalId(fnOf('ws-broadcast').function)]!.Properties.DeadLetterConfig).toBeUndefined();
  });
});
