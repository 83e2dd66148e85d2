/**
 * The emergency-stop fan-out: target of the EventBridge rule for `EmergencyStopRaised`. Stops every running
 * execution and starts its rollback run — the same fan-out the embedded runtime runs on its in-process bus.
 */
import middy from '@middy/core';
import { fanOutEmergencyStop, type ControlDeps } from '../../shared/lifecycle/control.js';

export const createHandler = (deps: ControlDeps) => middy().handler(async () => fanOutEmergencyStop(deps));
