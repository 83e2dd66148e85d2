/**
 * Scheduled game days: each entry of the deployer's game days file becomes a schedule targeting the
 * scheduled-experiment function with the experiment in its input; a bad game day fails the synth, naming itself.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGameDays } from '../../infra/game-days.js';
import { type Json, type Synthesized, logicalId, synthControlPlane } from './support.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const ROLE = 'arn:aws:iam::123456789012:role/chaos-*';

let synth: Synthesized;
beforeAll(() => {
  synth = synthControlPlane({ props: { gameDaysFile: join(FIXTURES, 'game-days.yaml'), targetRoleArns: [ROLE] } });
});
afterAll(() => synth.dispose());

const rules = () => Object.values(synth.template.findResources('AWS::Events::Rule')) as Array<{ Properties: Json }>;
const ruleWithSchedule = (expression: string) => {
  const found = rules().filter((r) => r.Properties.ScheduleExpression === expression);
  expect(found).toHaveLength(1);
  return found[0]?.Properties as Json;
};
const targetOf = (rule: Json) => (rule.Targets as Json[])[0] as Json;
const fnArn = () => ({ 'Fn::GetAtt': [logicalId(synth.stack.functions.get('scheduled-experiment')?.function ?? synth.stack), 'Arn'] });

describe('game days', () => {
  it('become one schedule each, on the default bus, targeting the scheduled-experiment function', () => {
    expect([...synth.stack.gameDayRules.keys()]).toEqual(['weekly-api-latency', 'hourly-pod']);
    for (const expression of ['cron(0 14 ? * TUE *)', 'rate(1 hour)']) {
      const rule = ruleWithSchedule(expression);
      expect(rule.EventBusName).toBeUndefined();
      expect(rule.State).toBe('ENABLED');
      expect(targetOf(rule)).toMatchObject({
        Arn: fnArn(),
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(synth.stack.bus.deadLetterQueue), 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600 },
      });
    }
  });

  it('send the game day, its experiment as written, and the event time as scheduled_at', () => {
    const rule = ruleWithSchedule('cron(0 14 ? * TUE *)');
    const transformer = targetOf(rule).InputTransformer as { InputPathsMap: Json; InputTemplate: string };
    expect(Object.values(transformer.InputPathsMap)).toEqual(['$.time']);
    const [name] = Object.keys(transformer.InputPathsMap);
    // The placeholder stands unquoted: EventBridge puts in the event time as a JSON string.
    expect(transformer.InputTemplate).toContain(`"scheduled_at":<${name}>`);
    const input = JSON.parse(transformer.InputTemplate.replace(`<${name}>`, JSON.stringify("2026-03-03T14:00:00Z"))) as Json;
    expect(input).toEqual({
      game_day: 'weekly-api-latency',
      experiment: {
        name: 'weekly api latency',
        chaos_type: 'ec2_stop',
        target: { provider: 'aws', tags: { app: 'api' }, role_arn: 'arn:aws:iam::123456789012:role/chaos-target' },
        parameters: {},
        safety: { max_blast_radius: 1 },
      },
      scheduled_at: '2026-03-03T14:00:00Z',
    });
  });

  it('let EventBridge invoke the function once per game day rule', () => {
    const permissions = Object.values(
      synth.template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'events.amazonaws.com', FunctionName: fnArn() } }),
    );
    expect(permissions).toHaveLength(2);
  });

  it('are none without a game days file', () => {
    const plain = synthControlPlane();
    try {
      expect(plain.stack.gameDayRules.size).toBe(0);
      const scheduled = Object.values(plain.template.findResources('AWS::Events::Rule')).filter(
        (r) => (r as { Properties: Json }).Properties.ScheduleExpression !== undefined,
      );
      expect(scheduled).toHaveLength(1);
    } finally {
      plain.dispose();
    }
  });

  it('fail the synth on an invalid experiment, naming the game day and the field', () => {
    expect(() => synthControlPlane({ props: { gameDaysFile: join(FIXTURES, 'game-days-invalid.yaml') } })).toThrow(
      /game day "broken-day": experiment\.safety\.timeout_seconds/,
    );
  });

  it('fail the synth on a role the functions may not assume, a bad schedule, or a repeated name', () => {
    expect(() => synthControlPlane({ props: { gameDaysFile: join(FIXTURES, 'game-days.yaml') } })).toThrow(
      /game day "weekly-api-latency": experiment\.target\.role_arn/,
    );
    const experiment = { name: 'x', chaos_type: 'pod_delete', target: { labels: { app: 'demo' } } };
    const checks = { targetRoleArns: [] };
    expect(() => parseGameDays([{ name: 'a', schedule: 'every tuesday', experiment }], 'f', checks)).toThrow(/\[0\]\.schedule/);
    expect(() => parseGameDays([{ name: 'a', schedule: 'rate(1 minutes)', experiment }], 'f', checks)).toThrow(/\[0\]\.schedule/);
    expect(() => parseGameDays([{ name: 'a', schedule: 'rate(1 day)', experiment }, { name: 'a', schedule: 'rate(2 days)', experiment }], 'f', checks)).toThrow(
      /\[1\]\.name/,
    );
    expect(() => parseGameDays([{ name: 'a b', schedule: 'rate(1 day)', experiment }], 'f', checks)).toThrow(/\[0\]\.name/);
    expect(parseGameDays(null, 'f', checks)).toEqual([]);
  });
});
