/**
 * The `cloudwatch_alarm` probe: reads one CloudWatch alarm (metric or composite) with DescribeAlarms and judges its
 * state against `expected_state`. Like the other probes it never throws for what it measures: an alarm that does not
 * exist, or a DescribeAlarms call that fails (access denied, throttled, unreachable), is a failed outcome that says
 * why. Only cancelling the run (`env.signal`) throws.
 *
 * With `stop_condition: true` the probe is also a stop condition (AWS FIS parity): OBSERVE halts the experiment as soon
 * as one reads ALARM (see `stop-condition.ts`). It runs the same on the local and the Lambda runtime.
 */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { awsClientFactory, type AwsClientFactory } from '../faults/aws/clients.js';
import type { AlarmState, CloudWatchAlarmProbe } from '../model/experiment.js';
import type { ProbeEnvironment, ProbeOutcome } from './probe.js';

let sharedFactory: AwsClientFactory | undefined;

/** Built on first use, not at import: the environment (region, endpoint) is read when a probe first needs it. */
function defaultFactory(): AwsClientFactory {
  sharedFactory ??= awsClientFactory();
  return sharedFactory;
}

export async function runCloudWatchAlarmProbe(probe: CloudWatchAlarmProbe, env: ProbeEnvironment): Promise<ProbeOutcome> {
  env.signal.throwIfAborted();
  const props = probe.properties;
  const expected: AlarmState[] = [props.expected_state].flat();
  const { cloudwatch } = (env.aws ?? defaultFactory())(props.region, props.role_arn);
  const failed = (failure: string): ProbeOutcome => ({
    ok: false,
    output: { alarm_name: props.alarm_name, alarm_type: null, state: null, reason: null, updated_at: null, failures: [failure] },
  });

  let response;
  try {
    response = await cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [props.alarm_name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
      { abortSignal: env.signal },
    );
  } catch (error) {
    env.signal.throwIfAborted();
    const err = error instanceof Error ? error : new Error(String(error));
    return failed(`DescribeAlarms for "${props.alarm_name}" failed: ${err.name}: ${err.message}`);
  }

  const metric = response.MetricAlarms?.find((a) => a.AlarmName === props.alarm_name);
  const composite = response.CompositeAlarms?.find((a) => a.AlarmName === props.alarm_name);
  const alarm = metric ?? composite;
  if (!alarm) {
    const region = props.region ?? (await cloudwatch.config.region());
    return failed(`no CloudWatch alarm named "${props.alarm_name}" in ${region}`);
  }
  const state = alarm.StateValue ?? null;
  const ok = state !== null && (expected as string[]).includes(state);
  return {
    ok,
    output: {
      alarm_name: props.alarm_name,
      alarm_type: metric ? 'metric' : 'composite',
      state,
      reason: alarm.StateReason ?? null,
      updated_at: alarm.StateUpdatedTimestamp?.toISOString() ?? null,
      failures: ok
        ? []
        : [`alarm "${props.alarm_name}" is ${state ?? 'in no state'}, expected ${expected.length === 1 ? expected[0] : `one of ${expected.join(', ')}`}`],
    },
  };
}
