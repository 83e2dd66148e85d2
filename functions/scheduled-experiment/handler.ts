/**
 * Scheduled game days: target of one EventBridge schedule per game day (`chaosduck:gameDaysFile`), whose input is
 * `{ game_day, experiment, scheduled_at }`. Submits the experiment once per scheduled time (see `core.ts`).
 */
import middy from '@middy/core';
import type { ControlDeps } from '../../shared/lifecycle/control.js';
import { runScheduledExperiment } from './core.js';

export const createHandler = (deps: ControlDeps) => middy().handler(async (event: unknown) => runScheduledExperiment(event, deps));
