/**
 * The `cloudwatch_alarm` probe without AWS: its schema (every bad field named), its judgement of DescribeAlarms
 * answers from a fake client, and the stop-condition rules (which probes OBSERVE runs, which of them fired).
 * The same probe against moto over real HTTP is in test/integration/aws-alarm.test.ts.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { ruleBasedHypothesis } from '../../../shared/analysis/prediction.js';
import type { AwsClientFactory, AwsClients } from '../../../shared/faults/aws/clients.js';
import { probesFor } from '../../../shared/lifecycle/events.js';
import { cloudwatchAlarmProbeProperties, type CloudWatchAlarmProbe, type Probe } from '../../../shared/model/experiment.js';
import { parseExperiment } from '../../../shared/model/parse.js';
import { firedStopConditions, runProbe } from '../../../shared/probes/index.js';
import type { ProbeEnvironment } from '../../../shared/probes/probe.js';
import type * as z from 'zod';
import { issuesOf } from './fixtures.js';

const experiment = (probes: unknown[]) => ({
  name: 'alarm-probe',
  chaos_type: 'pod_delete',
  target: { labels: { app: 'demo' } },
  parameters: { duration_seconds: 10 },
  probes,
});
const alarmProbe = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: 'alarm',
  type: 'cloudwatch_alarm',
  properties,
  ...extra,
});

function probe(properties: z.input<typeof cloudwatchAlarmProbeProperties>, name = 'alarm', mode: Probe['mode'] = 'continuous'): CloudWatchAlarmProbe {
  return { name, mode, type: 'cloudwatch_alarm', properties: cloudwatchAlarmProbeProperties.parse(properties) };
}

describe('cloudwatch_alarm probe schema', () => {
  it('fills in the defaults: expected OK, not a stop condition', () => {
    const spec = parseExperiment(experiment([alarmProbe({ alarm_name: 'api-5xx' })]));
    expect(spec.probes[0]).toEqual({
      name: 'alarm',
      mode: 'continuous',
      type: 'cloudwatch_alarm',
      properties: { alarm_name: 'api-5xx', expected_state: 'OK', stop_condition: false },
    });
  });

  it('accepts a region, a role, a list of expected states and any printable alarm name', () => {
    const spec = parseExperiment(
      experiment([
        alarmProbe({
          alarm_name: 'TargetTracking-table/orders-AlarmHigh-1b2c3d: p99 > 2s (prod)',
          region: 'eu-west-1',
          role_arn: 'arn:aws:iam::123456789012:role/chaos-reader',
          expected_state: ['OK', 'INSUFFICIENT_DATA'],
          stop_condition: true,
        }),
      ]),
    );
    expect(spec.probes[0]?.properties).toMatchObject({ expected_state: ['OK', 'INSUFFICIENT_DATA'], stop_condition: true });
  });

  it.each([
    ['a missing alarm name', {}, 'probes[0].properties.alarm_name'],
    ['an empty alarm name', { alarm_name: '' }, 'probes[0].properties.alarm_name'],
    ['an alarm name over 255 characters', { alarm_name: 'a'.repeat(256) }, 'probes[0].properties.alarm_name'],
    ['a control character in the name', { alarm_name: 'api\n5xx' }, 'probes[0].properties.alarm_name'],
    ['whitespace around the name', { alarm_name: ' api-5xx' }, 'probes[0].properties.alarm_name'],
    ['an unknown state', { alarm_name: 'a', expected_state: 'FIRING' }, 'probes[0].properties.expected_state'],
    ['an empty list of states', { alarm_name: 'a', expected_state: [] }, 'probes[0].properties.expected_state'],
    ['an unknown state in a list', { alarm_name: 'a', expected_state: ['OK', 'ok'] }, 'probes[0].properties.expected_state'],
    ['a bad region', { alarm_name: 'a', region: 'Europe' }, 'probes[0].properties.region'],
    ['a bad role ARN', { alarm_name: 'a', role_arn: 'chaos-reader' }, 'probes[0].properties.role_arn'],
    ['a non-boolean stop condition', { alarm_name: 'a', stop_condition: 'yes' }, 'probes[0].properties.stop_condition'],
    ['an unknown property (typo)', { alarm_name: 'a', stop_conditon: true }, 'probes[0].properties.stop_conditon'],
    ['a stop condition expecting ALARM', { alarm_name: 'a', stop_condition: true, expected_state: ['OK', 'ALARM'] }, 'probes[0].properties.expected_state'],
  ])('names the field for %s', (_what, properties, field) => {
    const issues = issuesOf(experiment([alarmProbe(properties)]));
    expect(issues.map((i) => i.field)).toEqual([field]);
  });

  it('rejects unknown keys beside the properties', () => {
    const issues = issuesOf(experiment([alarmProbe({ alarm_name: 'a' }, { stop_condition: true })]));
    expect(issues.map((i) => i.field)).toEqual(['probes[0].stop_condition']);
  });
});

// ---- the probe, on a fake CloudWatch client ----------------------------------------------------------------------------

interface FakeCall {
  region: string | undefined;
  roleArn: string | undefined;
  input: unknown;
}

function fakeAws(answer: (input: { AlarmNames?: string[] }) => unknown): { factory: AwsClientFactory; calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const factory: AwsClientFactory = (region, roleArn) => {
    const cloudwatch = {
      config: { region: () => Promise.resolve(region ?? 'us-east-1') },
      send: (command: { input: { AlarmNames?: string[] } }) => {
        calls.push({ region, roleArn, input: command.input });
        return Promise.resolve().then(() => answer(command.input));
      },
    } as unknown as CloudWatchClient;
    return { cloudwatch } as AwsClients;
  };
  return { factory, calls };
}

const env = (aws: AwsClientFactory, runtime: ProbeEnvironment['runtime'] = 'local'): ProbeEnvironment => ({
  runtime,
  signal: new AbortController().signal,
  aws,
});
const at = new Date('2025-01-02T03:04:05.000Z');

describe('cloudwatch_alarm probe', () => {
  it('reads the alarm through the injected factory, with its region and role, on the lambda runtime too', async () => {
    const { factory, calls } = fakeAws(() => ({
      MetricAlarms: [{ AlarmName: 'api-5xx', StateValue: 'OK', StateReason: 'Threshold not crossed', StateUpdatedTimestamp: at }],
    }));
    const p = probe({ alarm_name: 'api-5xx', region: 'eu-west-1', role_arn: 'arn:aws:iam::123456789012:role/reader' });

    const record = await runProbe(p, env(factory, 'lambda'));

    expect(calls).toEqual([
      { region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/reader', input: { AlarmNames: ['api-5xx'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] } },
    ]);
    expect(record).toMatchObject({
      activity: { type: 'probe', name: 'alarm', provider: { type: 'cloudwatch_alarm', alarm_name: 'api-5xx', region: 'eu-west-1', expected_state: 'OK', stop_condition: false } },
      status: 'succeeded',
      tolerance_met: true,
      output: { alarm_name: 'api-5xx', alarm_type: 'metric', state: 'OK', reason: 'Threshold not crossed', updated_at: at.toISOString(), failures: [] },
    });
  });

  it('fails when the state is not one of those expected, and reads composite alarms', async () => {
    const { factory } = fakeAws(() => ({ MetricAlarms: [], CompositeAlarms: [{ AlarmName: 'service-health', StateValue: 'ALARM', StateReason: 'child in ALARM' }] }));

    const record = await runProbe(probe({ alarm_name: 'service-health', expected_state: ['OK', 'INSUFFICIENT_DATA'] }), env(factory));

    expect(record).toMatchObject({
      status: 'failed',
      tolerance_met: false,
      output: { alarm_type: 'composite', state: 'ALARM', reason: 'child in ALARM', updated_at: null, failures: ['alarm "service-health" is ALARM, expected one of OK, INSUFFICIENT_DATA'] },
    });
  });

  it('turns a missing alarm and a failed call into failed outcomes that say why', async () => {
    const missing = await runProbe(probe({ alarm_name: 'gone' }), env(fakeAws(() => ({ MetricAlarms: [], CompositeAlarms: [] })).factory));
    expect(missing).toMatchObject({ status: 'failed', tolerance_met: false, output: { state: null, failures: ['no CloudWatch alarm named "gone" in us-east-1'] } });
    expect(missing.exception).toBeUndefined();

    const denied = Object.assign(new Error('not authorized to perform cloudwatch:DescribeAlarms'), { name: 'AccessDenied' });
    const refused = await runProbe(probe({ alarm_name: 'api' }), env(fakeAws(() => Promise.reject(denied)).factory));
    expect(refused).toMatchObject({
      status: 'failed',
      output: { failures: ['DescribeAlarms for "api" failed: AccessDenied: not authorized to perform cloudwatch:DescribeAlarms'] },
    });
  });

  it('records an exception, not a measurement, when the run is cancelled', async () => {
    const { factory, calls } = fakeAws(() => ({ MetricAlarms: [] }));
    const record = await runProbe(probe({ alarm_name: 'api' }), { runtime: 'local', signal: AbortSignal.abort(), aws: factory });
    expect(record).toMatchObject({ status: 'failed', tolerance_met: false, exception: [expect.stringContaining('AbortError')] });
    expect(calls).toEqual([]);
  });
});

// ---- stop conditions ---------------------------------------------------------------------------------------------------

describe('stop conditions', () => {
  it('run on every OBSERVE tick whatever their mode; other probes follow their mode', () => {
    const spec = parseExperiment(
      experiment([
        alarmProbe({ alarm_name: 'before', stop_condition: true }, { name: 'stop-sot', mode: 'sot' }),
        alarmProbe({ alarm_name: 'after', stop_condition: true }, { name: 'stop-eot', mode: 'eot' }),
        alarmProbe({ alarm_name: 'plain' }, { name: 'plain-sot', mode: 'sot' }),
        alarmProbe({ alarm_name: 'chaos' }, { name: 'plain-on-chaos', mode: 'on_chaos' }),
      ]),
    );
    const names = (when: 'before' | 'during' | 'after') => probesFor(spec, when).map((p) => p.name);
    expect(names('before')).toEqual(['stop-sot', 'plain-sot']);
    expect(names('during')).toEqual(['stop-sot', 'stop-eot', 'plain-on-chaos']);
    expect(names('after')).toEqual(['stop-eot']);
  });

  it('fire only for stop-condition probes whose alarm read ALARM', async () => {
    const states: Record<string, string> = { a: 'ALARM', b: 'OK', c: 'ALARM' };
    const { factory } = fakeAws(({ AlarmNames = [] }) => ({
      MetricAlarms: AlarmNames.map((name) => ({ AlarmName: name, StateValue: states[name], StateReason: `${name} reason` })),
    }));
    const probes = [
      probe({ alarm_name: 'a', stop_condition: true }, 'stop-a'),
      probe({ alarm_name: 'b', stop_condition: true }, 'stop-b'),
      probe({ alarm_name: 'c' }, 'watch-c'), // in ALARM, but only a failed probe
      probe({ alarm_name: 'missing', stop_condition: true }, 'stop-missing'),
    ];
    const records = await Promise.all(probes.map((p) => runProbe(p, env(factory))));
    expect(firedStopConditions(probes, records)).toEqual([{ probe: 'stop-a', alarm_name: 'a', reason: 'a reason' }]);
  });

  it('appear in the hypothesis', () => {
    const spec = parseExperiment(experiment([alarmProbe({ alarm_name: 'api-5xx', stop_condition: true }, { mode: 'sot' })]));
    expect(ruleBasedHypothesis(spec).expectations).toEqual(['alarm: CloudWatch alarm api-5xx stays OK (stop condition: ALARM halts the experiment)']);
  });
});
