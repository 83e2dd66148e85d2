/**
 * The recovery sweep on a schedule: experiments still pending or running whose execution is no longer RUNNING (or
 * that never got one, long after creation) get a rollback run, which pops whatever their stack still holds.
 */
import middy from '@middy/core';
import { findOrphans } from '../../shared/lifecycle/recovery.js';
import type { AwsControlDeps } from '../../shared/lifecycle/aws-control.js';
import { log } from '../../shared/observability/log.js';

/** An experiment with no execution yet is left alone this long: its start may simply be in flight. */
const START_GRACE_MS = 5 * 60_000;

export async function sweep(deps: AwsControlDeps): Promise<{ recovered: string[]; unreadable: string[] }> {
  const { orphans, corrupt } = await findOrphans(deps.store, async (record) =>
    record.executionArn
      ? !(await deps.runner.isRunning(record.executionArn))
      : deps.clock() - Date.parse(record.createdAt) > START_GRACE_MS,
  );
  // Logged on every sweep until someone repairs them: such a record may stand for a fault still in place.
  for (const error of corrupt) log.error(error.message, { key: error.key });
  for (const record of orphans) await deps.runner.start(record.id, 'rollback', 'recovered_after_crash');
  return { recovered: orphans.map((record) => record.id), unreadable: corrupt.map((error) => error.key) };
}

export const createHandler = (deps: AwsControlDeps) => middy().handler(async () => sweep(deps));
