/**
 * The recovery sweep: experiments still marked `pending` or `running` whose run is gone (the process that ran them
 * crashed, or in AWS the execution is no longer RUNNING) are handed to a rollback run, which pops whatever their
 * rollback stack still holds and finishes their record. Locally it runs at start-up; in AWS on a schedule.
 */
import type { ExperimentRecord } from '../model/lifecycle.js';
import type { ExperimentStore } from '../store/store.js';

export async function findOrphans(
  store: ExperimentStore,
  isRunGone: (record: ExperimentRecord) => boolean | Promise<boolean>,
): Promise<ExperimentRecord[]> {
  const orphans: ExperimentRecord[] = [];
  for (const status of ['running', 'pending'] as const) {
    let cursor: string | undefined;
    do {
      const page = await store.listByStatus(status, 100, cursor);
      for (const record of page.items) if (await isRunGone(record)) orphans.push(record);
      cursor = page.cursor;
    } while (cursor);
  }
  return orphans;
}
