/**
 * The emergency-stop fan-out: target of the EventBridge rule for `EmergencyStopRaised`. Stops every running
 * execution and starts its rollback run — the same fan-out the embedded runtime runs on its in-process bus.
 */
import middy from '@middy/core';
import { fanOutEmergencyStop, type ControlDeps } from '../../shared/lifecycle/control.js';
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';

export const createHandler = (deps: ControlDeps) => middy().handler(async () => fanOutEmergencyStop(deps));

let lambda: ReturnType<typeof createHandler> | undefined;
export const handler = (event: unknown, context: Parameters<ReturnType<typeof createHandler>>[1]) => {
  lambda ??= createHandler(lambdaControl());
  return lambda(event, context);
};
