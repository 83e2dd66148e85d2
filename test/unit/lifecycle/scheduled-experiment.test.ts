/**
 * The scheduled-experiment core against a real embedded runtime's control dependencies (SQLite store, local
 * executions): a repeated delivery of one scheduled run starts one experiment; the emergency stop skips the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScheduledExperiment } from '../../../functions/scheduled-experiment/core.js';
import { LocalRuntime } from '../../../local/runtime.js';
import { captureLog } from '../../support/log.js';
import { MemoryDriver } from '../../support/memory-driver.js';

describe('scheduled game day', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 4, labelsOf: (i) => ({ slot: String(i) }) })] });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  const event = (scheduledAt: string, slot = 0) => ({
    game_day: 'nightly',
    experiment: {
      name: `nightly-${slot}`,
      chaos_type: 'pod_delete',
      target: { provider: 'memory', labels: { slot: String(slot) } },
      parameters: { duration_seconds: 0 },
      safety: { max_blast_radius: 1 },
    },
    scheduled_at: scheduledAt,
  });

  it('starts one experiment however often EventBridge delivers the same scheduled run', async () => {
    const first = await runScheduledExperiment(event('2026-03-03T02:00:00Z'), runtime.control);
    const again = await runScheduledExperiment(event('2026-03-03T02:00:00Z'), runtime.control);
    expect(first).toMatchObject({ id: expect.stringMatching(/^exp-/), executionArn: expect.any(String), replayed: false });
    expect(again).toEqual({ ...first, replayed: true });
    await runtime.waitFor((first as { id: string }).id);
    const { items } = await runtime.store.listExperiments({ limit: 100 });
    expect(items.filter((record) => record.spec.name === 'nightly-0')).toHaveLength(1);

    const next = await runScheduledExperiment(event('2026-03-04T02:00:00Z'), runtime.control);
    expect((next as { id: string }).id).not.toBe((first as { id: string }).id);
    await runtime.waitFor((next as { id: string }).id);
  });

  it('skips the run, logging why, while the emergency stop is on', async () => {
    await runtime.emergencyStop('drill');
    await runtime.settleFanOuts();
    const logged = captureLog();
    try {
      const result = await runScheduledExperiment(event('2026-03-05T02:00:00Z', 1), runtime.control);
      expect(result).toEqual({ skipped: 'emergency_stop' });
      expect(logged.lines).toEqual([
        {
          level: 'warn',
          message: 'game day skipped: the emergency stop is on',
          fields: expect.objectContaining({ reason: 'emergency_stop', game_day: 'nightly', scheduled_at: '2026-03-05T02:00:00Z' }),
        },
      ]);
      const { items } = await runtime.store.listExperiments({ limit: 100 });
      expect(items.filter((record) => record.spec.name === 'nightly-1')).toEqual([]);
    } finally {
      logged.restore();
      await runtime.liftEmergencyStop();
    }
  });

  it('refuses a malformed event with a named ValidationError', async () => {
    await expect(runScheduledExperiment({ game_day: 'nightly', experiment: {}, scheduled_at: 'yesterday' }, runtime.control)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('scheduled_at'),
    });
    await expect(runScheduledExperiment({ ...event('2026-03-06T02:00:00Z'), experiment: { name: 'x' } }, runtime.control)).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });
});
