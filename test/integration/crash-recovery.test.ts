/**
 * A crash right after injection: the control plane is SIGKILLed while a cpu_stress fault is in place. The stress
 * workers outlive it (they are meant to, up to their own expiry); the next start's recovery sweep finds the
 * experiment, pops its rollback stack, kills the workers and records it all in the journal.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findStressWorkers, stopStressWorkers, stressMarker } from '../../local/sandbox/stress.js';
import { runCli, startCli } from '../support/cli.js';

describe('crash recovery', () => {
  let cwd: string;
  let marker = '';
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'chaosduck-crash-'));
  });
  afterEach(async () => {
    if (marker) await stopStressWorkers(marker, 5000);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('rolls back, on restart, a fault left in place by a SIGKILLed run', async () => {
    const file = join(cwd, 'cpu.yaml');
    writeFileSync(
      file,
      [
        'name: crash-me',
        'chaos_type: cpu_stress',
        'target: {provider: sandbox, labels: {app: demo}}',
        'parameters: {cpu_cores: 1, cpu_load_percent: 20, duration_seconds: 60}',
        'safety: {timeout_seconds: 120, max_blast_radius: 0.5}',
      ].join('\n'),
    );
    const run = startCli(['run', file], { cwd });
    const output = await run.waitForOutput(/INJECT\s+✓ phase done/);
    const id = /experiment (exp-[\w-]+)/.exec(output)?.[1];
    expect(id).toBeDefined();
    marker = stressMarker(id as string, 1);
    const workers = findStressWorkers(marker);
    expect(workers.length).toBe(1);

    run.child.kill('SIGKILL');
    await run.done;
    // The fault outlived the control plane.
    expect(findStressWorkers(marker)).toEqual(workers);

    const recovery = await runCli(['recover'], { cwd });
    expect(recovery.code, recovery.stdout + recovery.stderr).toBe(0);
    expect(recovery.stdout).toContain('recovered 1 experiment(s)');
    expect(findStressWorkers(marker)).toEqual([]);

    const printed = await runCli(['journal', id as string], { cwd });
    const journal = JSON.parse(printed.stdout);
    expect(journal.status).toBe('rolled_back');
    expect(journal.chaosduck.reason).toBe('recovered_after_crash');
    expect(journal.rollbacks).toHaveLength(1);
    expect(journal.rollbacks[0].activity.provider.action).toBe('stop_stress_workers');
    expect(journal.rollbacks[0].output.killed).toEqual(workers);
    expect(journal.chaosduck.rollback_stack[0].state).toBe('done');
  });
});
