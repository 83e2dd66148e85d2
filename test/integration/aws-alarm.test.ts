/**
 * The `cloudwatch_alarm` probe and stop condition over real HTTP against moto server: alarms made with
 * PutMetricAlarm, their state forced with SetAlarmState, read back by the probe through DescribeAlarms. The last test
 * runs a whole experiment on the real state machines (embedded runtime, memory driver) with a stop-condition alarm
 * that goes to ALARM once the fault is in: OBSERVE halts on that tick and the fault is rolled back.
 *
 * The embedded runtime has no way to hand its probes an AWS client factory, so that test points the probe's default
 * factory at moto through the SDK's own configuration: `AWS_ENDPOINT_URL_CLOUDWATCH` (CloudWatch only, so nothing
 * else the runtime builds is redirected) and dummy credentials.
 */
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import type { AwsClientFactory, AwsClients } from '../../shared/faults/aws/clients.js';
import { cloudwatchAlarmProbeProperties, type CloudWatchAlarmProbe } from '../../shared/model/experiment.js';
import { runProbe } from '../../shared/probes/index.js';
import type { ProbeEnvironment } from '../../shared/probes/probe.js';
import { MemoryDriver } from '../support/memory-driver.js';
import { MOTO_SETUP_TIMEOUT_MS, motoClientConfig, startMoto, type Moto, overrideEnv } from '../support/moto.js';
import { memoryExperiment, nextEvent } from '../statemachines/support.js';
import type * as z from 'zod';

let moto: Moto | undefined;
let cloudwatch: CloudWatchClient;
/** Clients for the probe: moto's endpoint, whatever region and role the probe names. */
let factory: AwsClientFactory;

let restoreEnv: (() => void) | undefined;

beforeAll(async () => {
  moto = await startMoto(); // the first run on a machine creates .venv and installs moto
  const config = motoClientConfig(moto.endpoint);
  cloudwatch = new CloudWatchClient(config);
  const clients = new Map<string, CloudWatchClient>();
  factory = (region) => {
    const key = region ?? config.region;
    let client = clients.get(key);
    if (!client) clients.set(key, (client = new CloudWatchClient({ ...config, region: key })));
    return { cloudwatch: client } as AwsClients;
  };
}, MOTO_SETUP_TIMEOUT_MS);

afterAll(async () => {
  cloudwatch?.destroy();
  restoreEnv?.();
  await moto?.stop();
});

beforeEach(async () => {
  await moto?.reset();
});

async function putAlarm(name: string, state?: StateValue): Promise<void> {
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'ChaosDuck/Test',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  );
  if (state) await setState(name, state, `set to ${state} by the test`);
}

async function setState(name: string, state: StateValue, reason: string): Promise<void> {
  await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: reason }));
}

function probe(properties: z.input<typeof cloudwatchAlarmProbeProperties>, name = 'alarm'): CloudWatchAlarmProbe {
  return { name, mode: 'continuous', type: 'cloudwatch_alarm', properties: cloudwatchAlarmProbeProperties.parse(properties) };
}

const env = (runtime: ProbeEnvironment['runtime'] = 'local'): ProbeEnvironment => ({ runtime, signal: new AbortController().signal, aws: factory });

describe('cloudwatch_alarm probe against moto', () => {
  it('is ok while the alarm is OK and fails once it is in ALARM, reporting state, reason and time', async () => {
    // Prepare
    await putAlarm('api-5xx', 'OK');
    const p = probe({ alarm_name: 'api-5xx' });

    // Act + Assess: OK
    const ok = await runProbe(p, env());
    expect(ok).toMatchObject({
      status: 'succeeded',
      tolerance_met: true,
      output: { alarm_name: 'api-5xx', alarm_type: 'metric', state: 'OK', reason: 'set to OK by the test', failures: [] },
    });
    expect(Date.parse(String((ok.output as { updated_at: string }).updated_at))).not.toBeNaN();

    // Act + Assess: ALARM
    await setState('api-5xx', 'ALARM', 'errors above threshold');
    const alarm = await runProbe(p, env('lambda'));
    expect(alarm).toMatchObject({
      status: 'failed',
      tolerance_met: false,
      output: { state: 'ALARM', reason: 'errors above threshold', failures: ['alarm "api-5xx" is ALARM, expected OK'] },
    });
  });

  it('accepts any of a list of expected states', async () => {
    await putAlarm('new-alarm', 'INSUFFICIENT_DATA'); // moto starts every alarm in OK; AWS would start this one here
    const record = await runProbe(probe({ alarm_name: 'new-alarm', expected_state: ['OK', 'INSUFFICIENT_DATA'] }), env());
    expect(record).toMatchObject({ status: 'succeeded', output: { state: 'INSUFFICIENT_DATA' } });
  });

  it('fails, naming the alarm, when there is no such alarm', async () => {
    await putAlarm('api-5xx', 'OK'); // another alarm exists; a prefix of its name must not match

    const record = await runProbe(probe({ alarm_name: 'api' }), env());

    expect(record).toMatchObject({ status: 'failed', tolerance_met: false, output: { state: null, failures: ['no CloudWatch alarm named "api" in us-east-1'] } });
    expect(record.exception).toBeUndefined();
  });

  it('looks in the region the probe names', async () => {
    await putAlarm('api-5xx', 'OK'); // in us-east-1
    const record = await runProbe(probe({ alarm_name: 'api-5xx', region: 'eu-west-1' }), env());
    expect(record).toMatchObject({ status: 'failed', output: { failures: ['no CloudWatch alarm named "api-5xx" in eu-west-1'] } });
  });
});

describe('stop condition on the real state machines', () => {
  let runtime: LocalRuntime | undefined;
  afterAll(async () => {
    await runtime?.stop();
  });

  it('halts OBSERVE at once when the alarm goes to ALARM after injection, and rolls the fault back', async () => {
    // Prepare: the probe's default client factory reaches moto through the SDK's environment configuration.
    restoreEnv = overrideEnv({
      AWS_ENDPOINT_URL_CLOUDWATCH: moto?.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: undefined,
      AWS_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '1',
    });
    await putAlarm('orders-errors', 'OK');
    const driver = new MemoryDriver();
    runtime = await LocalRuntime.start({ drivers: [driver] });
    const rt = runtime;
    rt.deps.random = () => 0.999_999; // targets in id order: replica-1 is the one faulted
    // A 30 s window and a threshold of 5: only the stop condition can end this run within a few seconds.
    const spec = memoryExperiment({ durationSeconds: 30, safety: { health_check_interval: 1, health_check_failure_threshold: 5 } });
    // `sot`: a stop condition is still checked on every OBSERVE tick.
    spec.probes = [{ name: 'orders-alarm', type: 'cloudwatch_alarm', mode: 'sot', properties: { alarm_name: 'orders-errors', stop_condition: true } }];
    const applied = nextEvent(rt.bus, { type: ['fault.applied'] });
    const halted = nextEvent(rt.bus, { type: ['phase.failed'] }, (e) => e.phase === 'OBSERVE');

    // Act: the alarm fires once the fault is in.
    const started = Date.now();
    const finished = rt.run(spec);
    await applied;
    const faultedWhenApplied = driver.faulted();
    await setState('orders-errors', 'ALARM', 'orders failing');
    const record = await finished;

    // Assess: halted by the stop condition on its first failed tick, and rolled back.
    expect(faultedWhenApplied).toEqual(['replica-1']);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(record).toMatchObject({ status: 'rolled_back', reason: 'StopConditionError', deviated: true });
    expect(driver.calls.map((c) => `${c.op} ${c.target}`)).toEqual(['apply replica-1', 'revert replica-1']);
    expect(driver.faulted()).toEqual([]);
    const phases = await rt.store.listPhaseResults(record.id);
    expect(phases.map((p) => `${p.phase}:${p.status}`)).toEqual([
      'STEADY_STATE:succeeded',
      'HYPOTHESIS:succeeded',
      'INJECT:succeeded',
      'OBSERVE:failed',
      'ROLLBACK:succeeded',
    ]);
    expect(phases.find((p) => p.phase === 'OBSERVE')?.detail).toMatchObject({
      halted: true,
      failedTicks: 1,
      stop_condition: [{ probe: 'orders-alarm', alarm_name: 'orders-errors', reason: 'orders failing' }],
    });
    // The halt reason: in the progress event OBSERVE published, and in the journal's OBSERVE phase.
    expect((await halted).detail).toMatchObject({ halted: true, stop_condition: [{ alarm_name: 'orders-errors', reason: 'orders failing' }] });
    const journal = (await rt.journal(record.id)) as { chaosduck: { phases: { phase: string; detail: unknown }[] } } | undefined;
    expect(journal?.chaosduck.phases.find((p) => p.phase === 'OBSERVE')?.detail).toMatchObject({ stop_condition: [{ probe: 'orders-alarm' }] });
  });
});
