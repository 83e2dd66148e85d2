/**
 * The AWS side of the control ports: executions are Step Functions executions of the orchestrator, and the emergency
 * stop is an EventBridge event that a rule fans out. Built from the environment on first use, like `lambdaDeps`.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { ControlBus, ControlDeps } from './control.js';
import type { LifecycleDeps } from './deps.js';
import { lambdaDeps } from './lambda-deps.js';
import { required } from './lambda-entry.js';
import type { ExecutionRunner } from './runner.js';

export const CONTROL_SOURCE = 'chaosduck.control';
export const EMERGENCY_STOP_RAISED = 'EmergencyStopRaised';

export function stepFunctionsRunner(client: SFNClient, stateMachineArn: string): ExecutionRunner {
  return {
    async start(experimentId, mode, reason) {
      const { executionArn } = await client.send(
        new StartExecutionCommand({
          stateMachineArn,
          // Execution names are unique per machine for 90 days; the timestamp keeps a second rollback run possible.
          name: `${experimentId}-${mode}-${Date.now()}`.slice(0, 80),
          input: JSON.stringify({ experimentId, mode, reason }),
        }),
      );
      return { executionArn: executionArn ?? '' };
    },
    async stop(executionArn, cause) {
      try {
        await client.send(new StopExecutionCommand({ executionArn, cause }));
      } catch (error) {
        if (!(error instanceof ExecutionDoesNotExist)) throw error;
      }
    },
    async isRunning(executionArn) {
      try {
        const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
        return status === 'RUNNING' || status === 'PENDING_REDRIVE';
      } catch (error) {
        if (error instanceof ExecutionDoesNotExist) return false;
        throw error;
      }
    },
  };
}

export function eventBridgeControlBus(client: EventBridgeClient, busName: string): ControlBus {
  return {
    async emergencyStopRaised(stop) {
      const { FailedEntryCount } = await client.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: busName, Source: CONTROL_SOURCE, DetailType: EMERGENCY_STOP_RAISED, Detail: JSON.stringify(stop) }],
        }),
      );
      if (FailedEntryCount) throw new Error('EventBridge did not accept the emergency-stop event');
    },
  };
}

export type AwsControlDeps = LifecycleDeps & ControlDeps & { control: ControlBus; runner: ReturnType<typeof stepFunctionsRunner> };

/** Everything the API, the fan-out and the sweep need in Lambda. */
export function lambdaControl(): AwsControlDeps {
  const deps = lambdaDeps();
  return {
    ...deps,
    runner: stepFunctionsRunner(new SFNClient({}), required('STATE_MACHINE_ARN')),
    control: eventBridgeControlBus(new EventBridgeClient({}), required('EVENT_BUS_NAME')),
  };
}
