/**
 * Ctrl-C and `kill` in the middle of a fault. A terminal's Ctrl-C sends SIGINT to the whole foreground process group,
 * so these tests start `chaosduck` as the leader of a group of its own and signal the whole group, as the terminal
 * does: the control plane's helpers (its database, the sandbox's replicas) must not die under it, the fault must be
 * gone by the time the process has exited, with no `chaosduck recover` needed, and the journal must say so.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findStressWorkers, stopStressWorkers, stressMarker } from '../../local/sandbox/stress.js';
import { runCli, startCli, type CliRun } from '../support/cli.js';

let cwd: string;
const markers: string[] = [];

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'chaosduck-interrupt-'));
});
afterEach(async () => {
  for (const marker of markers.splice(0)) await stopStressWorkers(marker, 5000);
  rmSync(cwd, { recursive: true, force: true });
});

function experimentFile(name: string, lines: string[]): string {
  const file = join(cwd, `${name}.yaml`);
  writeFileSync(file, [`name: ${name}`, ...lines].join('\n'));
  return file;
}

const cpuStress = (name: string) =>
  experimentFile(name, [
    'chaos_type: cpu_stress',
    'target: {provider: sandbox, labels: {app: demo}}',
    'parameters: {cpu_cores: 1, cpu_load_percent: 20, duration_seconds: 60}',
    'safety: {timeout_seconds: 120, max_blast_radius: 0.5}',
  ]);

/** Signals the command's whole process group, as a terminal's Ctrl-C (SIGINT) or `kill -TERM -<pgid>` does. */
const signalGroup = (run: CliRun, signal: NodeJS.Signals) => process.kill(-(run.child.pid as number), signal);

const journalOf = (id: string) => runCli(['journal', id], { cwd }).then((printed) => JSON.parse(printed.stdout) as Record<string, any>);

describe('chaosduck run, interrupted', () => {
  it('Ctrl-C to the whole group mid-fault: rolled back before exit, journal rolled_back (interrupted), exit 130', async () => {
    // Arrange: a cpu_stress fault in place.
    const run = startCli(['run', cpuStress('ctrl-c')], { cwd, detached: true });
    const output = await run.waitForOutput(/INJECT\s+✓ phase done/);
    const id = /experiment (exp-[\w-]+)/.exec(output)?.[1] as string;
    markers.push(stressMarker(id, 1));
    expect(findStressWorkers(stressMarker(id, 1))).toHaveLength(1);

    // Act
    signalGroup(run, 'SIGINT');
    const result = await run.done;

    // Assess: the fault is gone when the process has exited, and nothing is left for a recovery.
    expect(result.code, result.stdout + result.stderr).toBe(130);
    expect(findStressWorkers(stressMarker(id, 1))).toEqual([]);
    expect(result.stdout).toContain('interrupted (SIGINT): stopping the experiment and rolling it back');
    expect(result.stdout).toMatch(/status\s+rolled_back — interrupted/);
    const journal = JSON.parse(readFileSync(join(cwd, 'journal.json'), 'utf8'));
    expect(journal).toMatchObject({ status: 'rolled_back', chaosduck: { reason: 'interrupted' } });
    expect(journal.rollbacks).toHaveLength(1);
    expect(journal.rollbacks[0]).toMatchObject({ status: 'succeeded', activity: { provider: { action: 'stop_stress_workers' } } });
    const recovery = await runCli(['recover'], { cwd });
    expect(recovery.stdout).toContain('recovery sweep: nothing to recover');
  }, 90_000);

  it('a second signal during the rollback says it is still rolling back, and waits; SIGTERM exits 143', async () => {
    // pod_delete's rollback waits for the replica to be replaced, so the second signal comes while it runs.
    const file = experimentFile('term-twice', [
      'chaos_type: pod_delete',
      'target: {provider: sandbox, labels: {app: demo}}',
      'parameters: {duration_seconds: 60}',
      'safety: {timeout_seconds: 120, max_blast_radius: 0.5}',
    ]);
    const run = startCli(['run', file], { cwd, detached: true });
    await run.waitForOutput(/INJECT\s+✓ phase done/);

    signalGroup(run, 'SIGTERM');
    await run.waitForOutput('interrupted (SIGTERM)');
    // The rollback waits at least the sandbox's restart delay (200 ms) for the replacement replica: still going.
    await new Promise((resolve) => setTimeout(resolve, 50));
    signalGroup(run, 'SIGTERM');
    const result = await run.done;

    expect(result.code, result.stdout + result.stderr).toBe(143);
    expect(result.stderr).toContain('SIGTERM again: still rolling back, waiting for it to finish');
    expect(result.stdout).toMatch(/ROLLBACK\s+✓ action rollback await_replica_recovery/);
    expect(result.stdout).toMatch(/status\s+rolled_back — interrupted/);
  }, 90_000);
});

describe('chaosduck serve, interrupted', () => {
  it('Ctrl-C to the whole group: every running experiment is rolled back before exit, its journal stored', async () => {
    // Arrange: the server, and an experiment holding a cpu_stress fault through it.
    const serve = startCli(['serve', '--port', '0'], { cwd, detached: true, env: { CHAOSDUCK_TOKEN: 'interrupt-token' } });
    const banner = await serve.waitForOutput(/ChaosDuck API\s+(http:\/\/\S+)/);
    const url = /ChaosDuck API\s+(http:\/\/\S+)/.exec(banner)?.[1] as string;
    const headers = { authorization: 'Bearer interrupt-token', 'content-type': 'application/json' };
    const created = await fetch(`${url}/api/chaos/experiments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'serve-ctrl-c',
        chaos_type: 'cpu_stress',
        target: { provider: 'sandbox', labels: { app: 'demo' } },
        parameters: { cpu_cores: 1, cpu_load_percent: 20, duration_seconds: 60 },
        safety: { timeout_seconds: 120, max_blast_radius: 0.5 },
      }),
    });
    const { id } = (await created.json()) as { id: string };
    markers.push(stressMarker(id, 1));
    const deadline = Date.now() + 60_000;
    while (findStressWorkers(stressMarker(id, 1)).length === 0) {
      if (Date.now() > deadline) throw new Error(`the fault was not applied:\n${serve.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Act
    signalGroup(serve, 'SIGINT');
    const result = await serve.done;

    // Assess
    expect(result.code, result.stdout + result.stderr).toBe(130);
    expect(findStressWorkers(stressMarker(id, 1))).toEqual([]);
    expect(result.stdout).toContain('SIGINT: shutting down; rolling back running experiments first');
    expect(result.stdout).toContain(`rolled back ${id} (rolled_back)`);
    expect(result.stdout).toMatch(new RegExp(`${id}\\s+rollback\\.started`));
    const journal = await journalOf(id);
    expect(journal).toMatchObject({ status: 'rolled_back', chaosduck: { reason: 'interrupted' } });
  }, 120_000);

  it('Ctrl-C during a Chaos Toolkit method: interrupted as chaos run says, and the declared rollback still plays, exit 130', async () => {
    // Arrange: the method's action has run (it wrote a file); its pause holds the run.
    const marker = join(cwd, 'broken');
    const file = join(cwd, 'ctk.json');
    writeFileSync(
      file,
      JSON.stringify({
        title: 'interrupted in a pause',
        description: 'Ctrl-C after the action',
        method: [{ type: 'action', name: 'break', provider: { type: 'process', path: 'touch', arguments: [marker] }, pauses: { after: 60 } }],
        rollbacks: [{ type: 'action', name: 'repair', provider: { type: 'process', path: 'rm', arguments: ['-f', marker] } }],
      }),
    );
    const run = startCli(['run', file, '--journal-path', 'ctk-journal.json'], { cwd, detached: true });
    await run.waitForOutput(/INJECT\s+✓ action break/);

    // Act
    signalGroup(run, 'SIGINT');
    const result = await run.done;

    // Assess: Chaos Toolkit's status, ChaosDuck's rollback (no strategy given: a method action started).
    expect(result.code, result.stdout + result.stderr).toBe(130);
    const journal = JSON.parse(readFileSync(join(cwd, 'ctk-journal.json'), 'utf8'));
    expect(journal.status).toBe('interrupted');
    expect(journal.rollbacks).toEqual([expect.objectContaining({ activity: expect.objectContaining({ name: 'repair' }), status: 'succeeded' })]);
    expect(existsSync(marker)).toBe(false);
  });
});
