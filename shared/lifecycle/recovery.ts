/**
 * The experiments that may still hold faults: those marked `pending` or `running`. The recovery sweep hands the ones
 * whose run is gone to a rollback run (locally at start-up, in AWS on a schedule); the emergency-stop fan-out and a
 * shutting-down local server stop and roll back all of them.
 */
import type { ExperimentRecord } from '../model/lifecycle.js';
import type { CorruptRecordError } from '../store/records.js';
import type { ExperimentStore } from '../store/store.js';

export interface ActiveExperiments {
  records: ExperimentRecord[];
  /** Records listed as active that cannot be read: a person has to look at these; each names its key. */
  corrupt: CorruptRecordError[];
}

/** Every pending or running experiment, oldest first, every page. */
export async function listActive(store: ExperimentStore): Promise<ActiveExperiments> {
  const active: ActiveExperiments = { records: [], corrupt: [] };
  const seen = new Set<string>();
  // Pending first: a status only moves forward (pending → running → final), so one that starts running between the
  // two queries is found by the second. The other order would miss it.
  for (const status of ['pending', 'running'] as const) {
    let cursor: string | undefined;
    do {
      const page = await store.listByStatus(status, 100, cursor);
      for (const record of page.items) {
        if (seen.has(record.id)) continue;
        seen.add(record.id);
        active.records.push(record);
      }
      active.corrupt.push(...(page.corrupt ?? []));
      cursor = page.cursor;
    } while (cursor);
  }
  return active;
}

/** The active experiments whose run is gone, by `isRunGone`, and the active records that cannot be read. */
export async function findOrphans(
  store: ExperimentStore,
  isRunGone: (record: ExperimentRecord) => boolean | Promise<boolean>,
): Promise<{ orphans: ExperimentRecord[]; corrupt: CorruptRecordError[] }> {
  const { records, corrupt } = await listActive(store);
  const orphans: ExperimentRecord[] = [];
  for (const record of records) if (await isRunGone(record)) orphans.push(record);
  return { orphans, corrupt };
}
