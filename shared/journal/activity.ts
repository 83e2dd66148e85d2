/**
 * One recorded activity, laid out as the Chaos Toolkit journal lays out a run entry, so tools made for that journal
 * can read ours: `{activity, status, start, end, duration, output | exception}`.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface ActivityRecord {
  activity: {
    type: 'probe' | 'action';
    name: string;
    /** What ran: the probe type or fault, and its arguments, as Chaos Toolkit's `provider` block. */
    provider: JsonObject;
  };
  status: 'succeeded' | 'failed';
  /** ISO 8601 timestamps and seconds, as Chaos Toolkit writes them. */
  start: string;
  end: string;
  duration: number;
  output?: JsonValue;
  exception?: string[];
  /** Probes only: did the result stay within its tolerance? */
  tolerance_met?: boolean;
}

/** Runs `work` and records it as an activity; a thrown error becomes `status: failed` with the exception. */
export async function recordActivity(
  activity: ActivityRecord['activity'],
  work: () => Promise<{ output: JsonValue; ok?: boolean }>,
  now: () => number = Date.now,
): Promise<ActivityRecord> {
  const started = now();
  const finish = (fields: Partial<ActivityRecord> & Pick<ActivityRecord, 'status'>): ActivityRecord => {
    const ended = now();
    return {
      activity,
      start: new Date(started).toISOString(),
      end: new Date(ended).toISOString(),
      duration: (ended - started) / 1000,
      ...fields,
    };
  };
  try {
    const { output, ok } = await work();
    if (activity.type === 'probe') {
      return finish({ status: ok === false ? 'failed' : 'succeeded', output, tolerance_met: ok !== false });
    }
    return finish({ status: ok === false ? 'failed' : 'succeeded', output });
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    return finish({
      status: 'failed',
      exception: [`${err.name}: ${err.message}`],
      ...(activity.type === 'probe' ? { tolerance_met: false } : {}),
    });
  }
}

/**
 * Our records are plain JSON by construction (strings, numbers, arrays, objects), but TypeScript cannot see that
 * through interfaces with optional fields; this is the one place that says so.
 */
export function asJson<T extends object>(value: T): JsonObject;
export function asJson<T extends object>(value: readonly T[]): JsonValue[];
export function asJson(value: unknown): JsonValue {
  return value as JsonValue;
}
