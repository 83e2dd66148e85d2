/**
 * The newcomer's path, end to end: the real `chaosduck` command, the embedded runtime with SQLite on disk, and the
 * sandbox's real replica processes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { runCli } from '../support/cli.js';

const EXAMPLE = resolve('examples/sandbox-pod-delete.yaml');

describe('chaosduck CLI', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'chaosduck-cli-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('runs the bundled example through all five phases and writes a completed journal', async () => {
    const result = await runCli(['run', EXAMPLE], { cwd });

    expect(result.code, result.stdout + result.stderr).toBe(0);
    const phases = ['STEADY_STATE', 'HYPOTHESIS', 'INJECT', 'OBSERVE', 'ROLLBACK'];
    const positions = phases.map((phase) => result.stdout.indexOf(phase));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(result.stdout).toContain('status     completed');

    const journal = JSON.parse(readFileSync(join(cwd, 'journal.json'), 'utf8'));
    expect(journal.status).toBe('completed');
    expect(journal.deviated).toBe(false);
    expect(journal.steady_states.before.steady_state_met).toBe(true);
    expect(journal.steady_states.after.steady_state_met).toBe(true);
    expect(journal.run).toHaveLength(1);
    expect(journal.run[0].activity.name).toMatch(/^pod_delete sandbox\/demo\/replica-\d+$/);
    // The rollback verified the killed replica was replaced and measured how long that took.
    expect(journal.rollbacks).toHaveLength(1);
    expect(journal.rollbacks[0].status).toBe('succeeded');
    expect(journal.rollbacks[0].output.recovered_after_ms).toBeGreaterThan(0);
    expect(journal.chaosduck.phases.map((p: { phase: string }) => p.phase)).toEqual(phases);
  });

  it('dry run prints the plan and injects nothing', async () => {
    const result = await runCli(['run', '--dry-run', EXAMPLE], { cwd });

    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
    expect(plan.dry_run).toBe(true);
    expect(plan.fault.chaos_type).toBe('pod_delete');
    expect(plan.targets).toHaveLength(1);
    expect(plan.rollback[0].action).toBe('await_replica_recovery');
    expect(existsSync(join(cwd, 'journal.json'))).toBe(false);
  });

  it('validate names every bad field and exits 2', async () => {
    const file = join(cwd, 'bad.yaml');
    writeFileSync(file, 'name: bad\nchaos_type: network_latency\ntarget: {labels: {}, selection: SOME}\nparameters: {latncy_ms: 5}\nsafety: {max_blast_radius: 2}\n');

    const result = await runCli(['validate', file], { cwd });

    expect(result.code).toBe(2);
    for (const field of ['target.labels', 'target.selection', 'parameters.latncy_ms', 'safety.max_blast_radius']) {
      expect(result.stderr).toContain(field);
    }
  });

  it('refuses a data directory that another running chaosduck holds, naming its process', async () => {
    const runtime = await LocalRuntime.start({ dataDir: join(cwd, '.chaosduck') });
    try {
      const result = await runCli(['recover'], { cwd });

      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`is in use by chaosduck process ${process.pid}`);
    } finally {
      await runtime.stop();
    }
    // Once the holder has stopped, the directory is free again.
    expect((await runCli(['recover'], { cwd })).code).toBe(0);
  });

  it('run refuses an invalid file before starting anything', async () => {
    const file = join(cwd, 'bad.json');
    writeFileSync(file, JSON.stringify({ name: 'x', chaos_type: 'pod_delete', target: { provider: 'sandbox', labels: { app: 'demo' } }, probes: [{ name: 'p', type: 'http', properties: { url: '${NOPE}/x' } }] }));

    const result = await runCli(['run', file], { cwd });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('probes[0].properties.url: ${NOPE} has no value');
    expect(existsSync(join(cwd, 'journal.json'))).toBe(false);
  });

  it('validate shows ${SANDBOX_URL} as written, and refuses what the guards refuse, naming the field and the word', async () => {
    const good = await runCli(['validate', EXAMPLE], { cwd });
    const file = join(cwd, 'prod.yaml');
    writeFileSync(file, 'name: checkout\nchaos_type: pod_delete\ntarget: {namespace: shop-prod, labels: {app: web}}\n');
    const guarded = await runCli(['validate', file], { cwd });
    const otherRule = await runCli(['validate', file], { cwd, env: { PRODUCTION_PATTERN: '^live$' } });

    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('"url": "${SANDBOX_URL}/health"');
    expect(guarded.code).toBe(2);
    expect(guarded.stderr).toContain('target.namespace: "shop-prod" looks like production ("prod"');
    expect(otherRule.code, otherRule.stderr).toBe(0);
  });

  it('prints its version; a malformed numeric setting stops it, naming the variable', async () => {
    const version = await runCli(['--version'], { cwd });
    const badPort = await runCli(['serve'], { cwd, env: { PORT: '80a' } });
    const badCap = await runCli(['validate', EXAMPLE], { cwd, env: { MAX_TIMEOUT_SECONDS: 'abc' } });

    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(resolve('package.json'), 'utf8')).version);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port (PORT)="80a" is not a whole number');
    expect(badCap.code).toBe(2);
    expect(badCap.stderr).toContain('MAX_TIMEOUT_SECONDS="abc" is not a whole number');
  });

  it('validates a Chaos Toolkit file, naming every problem in its own words, and exits as chaos validate does', async () => {
    const good = join(cwd, 'ctk.yaml');
    writeFileSync(
      good,
      [
        'title: shop stays up',
        'description: one replica fewer',
        'steady-state-hypothesis:',
        '  title: answers',
        '  probes:',
        '    - {type: probe, name: home, tolerance: 200, provider: {type: http, url: "http://127.0.0.1:1/"}}',
        'method:',
        '  - {type: action, name: touch, provider: {type: process, path: touch, arguments: [ran]}}',
      ].join('\n'),
    );
    const bad = join(cwd, 'bad.json');
    writeFileSync(bad, JSON.stringify({ title: 't', method: [{ type: 'action', name: 'py', provider: { type: 'python', module: 'os', func: 'system', arguments: { command: 'touch ran' } } }] }));

    const valid = await runCli(['validate', good], { cwd });
    const invalid = await runCli(['validate', bad], { cwd });
    const refused = await runCli(['run', bad], { cwd });
    // The baseline probe cannot connect: an error, not a miss, so `failed` and exit 1, and the method never runs.
    const unreachable = await runCli(['run', good, '--journal-path', 'ctk-journal.json'], { cwd });

    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toContain('experiment syntax and semantic look valid');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('description: experiment requires a description');
    expect(invalid.stderr).toMatch(/method\[0\]\.provider\.func: action 'py' calls the python function os\.system, which ChaosDuck does not run/);
    expect(refused.code).toBe(1);
    expect(unreachable.code, unreachable.stdout + unreachable.stderr).toBe(1);
    expect(unreachable.stdout).toContain('chaos toolkit status: failed');
    expect(JSON.parse(readFileSync(join(cwd, 'ctk-journal.json'), 'utf8'))).toMatchObject({ status: 'failed', deviated: false, run: [] });
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
  });

  it('runs a Chaos Toolkit file with chaos run`s options and exit codes: 0 completed, 1 deviated', async () => {
    let healthy = true;
    const server = createServer((req, res) => {
      if (req.url === '/break') healthy = false;
      if (req.url === '/repair') healthy = true;
      res.statusCode = req.url === '/health' && !healthy ? 500 : 200;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const file = join(cwd, 'shop.json');
      writeFileSync(
        file,
        JSON.stringify({
          title: 'shop keeps answering',
          description: 'one action, one rollback',
          configuration: { base: 'http://127.0.0.1:1' },
          'steady-state-hypothesis': { title: 'up', probes: [{ type: 'probe', name: 'up', tolerance: 200, provider: { type: 'http', url: '${base}/health' } }] },
          method: [{ type: 'action', name: 'act', provider: { type: 'http', url: '${base}/${what}' } }],
          rollbacks: [{ type: 'action', name: 'repair', provider: { type: 'http', url: '${base}/repair' } }],
        }),
      );
      writeFileSync(join(cwd, 'vars.yaml'), `configuration:\n  base: ${base}\n`);

      const fine = await runCli(['run', file, '--var-file', 'vars.yaml', '--var', 'what=noop', '--journal-path', 'fine.json'], { cwd });
      const broken = await runCli(['run', file, '--var-file', 'vars.yaml', '--var', 'what=break', '--rollback-strategy', 'never', '--journal-path', 'broken.json'], { cwd });
      const usage = await runCli(['run', file, '--rollback-strategy', 'sometimes'], { cwd });

      expect(fine.code, fine.stdout + fine.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(cwd, 'fine.json'), 'utf8'))).toMatchObject({ status: 'completed', deviated: false, rollbacks: [{ status: 'succeeded' }] });
      expect(broken.code, broken.stdout + broken.stderr).toBe(1);
      expect(JSON.parse(readFileSync(join(cwd, 'broken.json'), 'utf8'))).toMatchObject({ status: 'completed', deviated: true, rollbacks: [] });
      expect(healthy).toBe(false);
      expect(usage.code).not.toBe(0);
      expect(usage.stderr).toContain("'sometimes' is invalid");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('chaosduck analysis commands', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'chaosduck-cli-analysis-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  /** A Chaos Toolkit file that runs in a blink: a process probe, a process action, a declared rollback. */
  const quick = () => {
    const file = join(cwd, 'quick.json');
    const touch = { type: 'process', path: 'true' };
    writeFileSync(
      file,
      JSON.stringify({
        title: 'quick',
        description: 'd',
        'steady-state-hypothesis': { title: 'fine', probes: [{ type: 'probe', name: 'fine', tolerance: 0, provider: touch }] },
        method: [{ type: 'action', name: 'act', provider: touch }],
        rollbacks: [{ type: 'action', name: 'undo', provider: touch }],
      }),
    );
    return file;
  };

  it('scores what ran, analyses it, and reports the trend', async () => {
    const run = await runCli(['run', quick()], { cwd, env: { ANTHROPIC_API_KEY: '' } });
    const id = JSON.parse(readFileSync(join(cwd, 'journal.json'), 'utf8')).chaosduck.id as string;

    const score = await runCli(['score'], { cwd });
    const analyze = await runCli(['analyze', id], { cwd, env: { ANTHROPIC_API_KEY: '' } });
    const json = await runCli(['analyze', id, '--json'], { cwd, env: { ANTHROPIC_API_KEY: '' } });

    expect(run.stdout).toContain('resilience 100/100 (steady state 1, hypothesis 1, recovery 1, rollback 1)');
    expect(score.stdout).toContain(`100/100`);
    expect(score.stdout).toContain(id);
    expect(score.stdout).toContain('1 scored; latest 100, mean 100');
    expect(analyze.code).toBe(0);
    expect(analyze.stdout).toContain('quick: chaostoolkit was applied; the experiment ended completed; resilience 100/100.');
    expect(analyze.stdout).toContain('analysis by the offline rules');
    expect(JSON.parse(json.stdout)).toMatchObject({ source: 'rules', analysis: { experiment_id: id, hypothesis: { held: true } } });
  });

  it('writes JUnit XML for CI pipelines, and with --output json prints one verdict object on stdout alone', async () => {
    const file = quick();

    const result = await runCli(['run', file, '--junit', 'results.xml', '--output', 'json'], { cwd, env: { ANTHROPIC_API_KEY: '' } });

    expect(result.code).toBe(0);
    const verdict = JSON.parse(result.stdout);
    expect(verdict).toMatchObject({ name: 'quick', format: 'chaostoolkit', status: 'completed', deviated: false, resilience_score: 100, exit_code: 0, junit: join(cwd, 'results.xml') });
    expect(result.stderr).toContain('STEADY_STATE');
    const xml = readFileSync(join(cwd, 'results.xml'), 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="chaosduck" tests="\d+" failures="0" errors="0"/);
    expect(xml).toContain(`<property name="experiment_id" value="${verdict.experiment_id}"/>`);
  });

  it('turns a sentence into the experiment file it would run, which then validates', async () => {
    const nl = await runCli(['nl', 'nginx pod 하나를 랜덤으로 죽이고 복구 시간 관찰', '-o', 'nginx.json'], { cwd, env: { ANTHROPIC_API_KEY: '', KUBECONFIG: join(cwd, 'none') } });
    const validate = await runCli(['validate', 'nginx.json'], { cwd });
    const vague = await runCli(['nl', 'be resilient'], { cwd, env: { ANTHROPIC_API_KEY: '' } });

    expect(nl.code).toBe(0);
    expect(nl.stdout).toContain('# read:    "죽이" → chaos_type pod_delete');
    expect(nl.stdout).toContain('chaos_type: pod_delete');
    expect(nl.stdout).toContain('nothing was run');
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('valid pod_delete experiment "nginx-pod-delete"');
    expect(vague.code).toBe(2);
    expect(vague.stderr).toContain('prompt: could not understand: which fault to inject');
  });

  it('proposes hypotheses for a topology file', async () => {
    const topology = join(cwd, 'topology.json');
    writeFileSync(topology, JSON.stringify({ kubernetes: { deployments: [{ kind: 'Deployment', namespace: 'shop', name: 'cart', selector: { app: 'cart' }, replicas: 1, ready_replicas: 1 }] } }));

    const result = await runCli(['hypotheses', '--topology', topology], { cwd, env: { ANTHROPIC_API_KEY: '' } });
    // This machine's own topology: no cluster configured, so the Kubernetes client loads and says so, quietly.
    const own = await runCli(['hypotheses'], { cwd, env: { ANTHROPIC_API_KEY: '', KUBECONFIG: '' } });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(' 1. [high likelihood, high impact] cart has a single replica');
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('the sandbox service loses a replica');
    expect(own.stderr).not.toMatch(/Warning/);
  });
});
