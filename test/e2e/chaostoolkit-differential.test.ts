/**
 * The same Chaos Toolkit files run by the real `chaos run` (chaostoolkit 1.21.4 from PyPI, in its own virtualenv)
 * and by `chaosduck run`, against the same real HTTP server and real processes: the exit code, `status`, `deviated`,
 * the steady-state checks, the method's activities and the rollbacks played must agree. The rollback strategy is
 * given explicitly, where ChaosDuck then behaves exactly as Chaos Toolkit (without one it deliberately differs:
 * see chaostoolkit-run.test.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { chaosToolkit, VENV_SETUP_TIMEOUT_MS } from '../support/python-venv.js';

type Json = Record<string, any>;

let chaos: string;
let dir: string;
let server: Server;
let base: string;
let health = 200;
/** Until when `/health` answers 500 after a `/blip`: a failure that heals by itself. */
let blipUntil = 0;

beforeAll(async () => {
  chaos = await chaosToolkit();
  dir = mkdtempSync(join(tmpdir(), 'chaosduck-ctk-diff-'));
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/break') health = 500;
    if (path === '/repair') health = 200;
    if (path === '/blip') blipUntil = Date.now() + 4000;
    if (path === '/slow') {
      setTimeout(() => res.end('late'), 3000);
      return;
    }
    if (path === '/fleet') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ services: [{ name: 'web', ready: true }, { name: 'db', ready: false }] }));
      return;
    }
    res.statusCode = path === '/health' ? (Date.now() < blipUntil ? 500 : health) : 200;
    res.end(`health ${health}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, VENV_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runChaos(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(chaos, ['--no-version-check', 'run', ...args], { cwd: dir, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

/** What must agree between the two journals. */
function outcome(journal: Json): Json {
  const checked = (state: Json | null) => (state ? { met: state.steady_state_met, probes: state.probes.map((p: Json) => [p.activity.name, p.status, p.tolerance_met]) } : null);
  return {
    status: journal.status,
    deviated: journal.deviated,
    before: checked(journal.steady_states.before),
    after: checked(journal.steady_states.after),
    run: journal.run.map((r: Json) => [r.activity.name, r.status]),
    rollbacks: journal.rollbacks.map((r: Json) => [r.activity.name, r.status]),
  };
}

const probe = (name: string, tolerance: unknown, provider: Json) => ({ type: 'probe', name, tolerance, provider });
const http = (path: string, extra: Json = {}) => ({ type: 'http', url: `\${base}${path}`, ...extra });
const action = (name: string, provider: Json, extra: Json = {}) => ({ type: 'action', name, provider, ...extra });
const experiment = (fields: Json) => ({
  title: 'web keeps answering',
  description: 'the same file, two runners',
  configuration: { base: { type: 'env', key: 'CTK_DIFF_BASE' } },
  'steady-state-hypothesis': { title: 'answers 200', probes: [probe('web-ok', 200, http('/health'))] },
  method: [],
  rollbacks: [action('repair', http('/repair', { method: 'POST' }))],
  ...fields,
});

const cases: [string, Json, string[]][] = [
  ['all met', experiment({ method: [action('noop', { type: 'process', path: 'true' })] }), []],
  ['a missed baseline: completed, exit 0, the method skipped', experiment({ method: [action('break', http('/break', { method: 'POST' }))] }), ['--var', 'start=broken']],
  [
    'a baseline probe that errors: failed',
    experiment({ 'steady-state-hypothesis': { title: 'reachable', probes: [probe('nowhere', 200, { type: 'http', url: 'http://127.0.0.1:1/' })] } }),
    [],
  ],
  ['a missed after-check: completed, deviated, exit 1', experiment({ method: [action('break', http('/break', { method: 'POST' }))] }), []],
  [
    'an after-check probe that errors: failed, deviated, no rollback',
    experiment({
      'steady-state-hypothesis': { title: 'fast', probes: [probe('web-fast', 200, http('/slow', { timeout: 1 }))] },
      method: [action('break', http('/break', { method: 'POST' }))],
    }),
    ['--hypothesis-strategy', 'after-method-only'],
  ],
  [
    'a method activity that fails, a non-zero exit, a 4xx: the run still completes',
    experiment({
      method: [
        action('too-slow', { type: 'process', path: 'sleep', arguments: ['3'], timeout: 0.5 }),
        action('exits-3', { type: 'process', path: 'sh', arguments: ['-c', 'exit 3'] }),
        probe('post-health', undefined, http('/health', { method: 'POST' })),
      ],
    }),
    [],
  ],
  [
    'tolerances: status list, jsonpath filter and count, regex, range, a probe as tolerance',
    experiment({
      'steady-state-hypothesis': {
        title: 'every kind',
        probes: [
          probe('status-list', [200, 204], http('/health')),
          probe('jsonpath-filter', { type: 'jsonpath', path: '$.body.services[*][?(@.name="web")].ready', expect: true }, http('/fleet')),
          probe('jsonpath-count', { type: 'jsonpath', path: '$.body.services[*]', count: 2 }, http('/fleet')),
          probe('regex', { type: 'regex', pattern: '^health \\d+$', target: 'body' }, http('/health')),
          probe('range', { type: 'range', range: [1, 5], target: 'status' }, { type: 'process', path: 'sh', arguments: ['-c', 'exit 2'] }),
          probe('by-a-probe', { type: 'probe', name: 'judge', provider: { type: 'process', path: 'sh', arguments: { '-c': 'exit 1' } } }, { type: 'process', path: 'true' }),
          probe('jsonpath-miss', { type: 'jsonpath', path: '$.body.services[*][?(@.name="db")].ready', expect: true }, http('/fleet')),
        ],
      },
    }),
    [],
  ],
  [
    'a jsonpath2 filter keeps the node it is applied to, so filtering a list needs [*] first',
    experiment({ 'steady-state-hypothesis': { title: 'web ready', probes: [probe('on-the-list', { type: 'jsonpath', path: '$.body.services[?(@.name="web")].ready', expect: true }, http('/fleet'))] } }),
    [],
  ],
  ['a boolean tolerance never matches an http output', experiment({ 'steady-state-hypothesis': { title: 'bool', probes: [probe('bool', true, http('/health'))] } }), []],
  ['before-method-only', experiment({ method: [action('break', http('/break', { method: 'POST' }))] }), ['--hypothesis-strategy', 'before-method-only']],
  ['rollback strategy deviated, not deviated: no rollback', experiment({ method: [action('noop', { type: 'process', path: 'true' })] }), ['--rollback-strategy', 'deviated']],
  ['rollback strategy never', experiment({ method: [action('break', http('/break', { method: 'POST' }))] }), ['--rollback-strategy', 'never']],
  [
    'continuously with --fail-fast: a failure while an activity runs stops the method after it; the final check passes: failed',
    experiment({
      method: [
        // The pause first: Chaos Toolkit checks at once when the method starts, in a thread of its own, and would race a
        // blip made at that very moment.
        action('blip', http('/blip', { method: 'POST' }), { pauses: { before: 1.5 } }),
        action('wait', { type: 'process', path: 'sleep', arguments: ['7'] }),
        action('never', { type: 'process', path: 'true' }),
      ],
    }),
    ['--hypothesis-strategy', 'continuously', '--fail-fast'],
  ],
  ['--dry actions', experiment({ method: [action('break', http('/break', { method: 'POST' }))] }), ['--dry', 'actions']],
  [
    '${name} from --var and the environment; unknown names stay as written',
    experiment({ method: [probe('echo', undefined, { type: 'process', path: 'sh', arguments: ['-c', 'test "$0 $1" = "hello ${nobody}"', '${greeting}', '${nobody}'] })] }),
    ['--var', 'greeting=hello'],
  ],
];

describe('the same Chaos Toolkit file, chaos run and chaosduck run', () => {
  it.each(cases)('%s', async (name, document, extra) => {
    const slug = name.replace(/\W+/g, '-').slice(0, 40);
    const file = join(dir, `${slug}.json`);
    writeFileSync(file, JSON.stringify(document));
    const strategy = extra.includes('--rollback-strategy') ? [] : ['--rollback-strategy', 'default'];
    const startBroken = extra.includes('start=broken');
    const env = { CTK_DIFF_BASE: base };
    process.env.CTK_DIFF_BASE = base;
    const args = [...strategy, ...extra];

    health = startBroken ? 503 : 200;
    blipUntil = 0;
    const chaosCode = await runChaos([file, ...args, '--journal-path', `${slug}.chaos.json`]);
    const chaosHealth = health;
    health = startBroken ? 503 : 200;
    blipUntil = 0;
    const ours = await runCli(['run', file, ...args, '--journal-path', `${slug}.chaosduck.json`, '--data-dir', join(dir, 'data')], { cwd: dir, env });
    const theirs = JSON.parse(readFileSync(join(dir, `${slug}.chaos.json`), 'utf8'));
    const mine = JSON.parse(readFileSync(join(dir, `${slug}.chaosduck.json`), 'utf8'));

    expect(outcome(mine), ours.stdout + ours.stderr).toEqual(outcome(theirs));
    expect(ours.code).toBe(chaosCode);
    // The system is left as Chaos Toolkit leaves it.
    expect(health).toBe(chaosHealth);
  });
});
