/**
 * Chaos Toolkit experiments run on the embedded runtime, through the real state machines and handlers, against a real
 * HTTP server on loopback and real processes. Each test names the Chaos Toolkit behaviour it pins down; the outcomes
 * are those of chaos-toolkit-format.md §8 (checked against `chaos run` 1.21.4), and where ChaosDuck deliberately
 * differs (declared rollbacks played after a probe error, when no strategy is given) the test says so.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { ValidationError } from '../../shared/errors.js';
import { apiClient } from '../support/api-client.js';
import { MemoryDriver } from '../support/memory-driver.js';

const TOKEN = 'ctk-test-token-0123456789';

type Json = Record<string, unknown>;
interface Journal {
  status: string;
  deviated: boolean;
  experiment: Json;
  steady_states: { before: { steady_state_met: boolean; probes: Json[] } | null; after: { steady_state_met: boolean; probes: Json[] } | null; during: { steady_state_met: boolean }[] };
  run: { activity: { name: string }; status: string; output?: Json; exception?: string[] }[];
  rollbacks: { activity: { name: string }; status: string; output?: Json }[];
  chaosduck: { status: string; rollback_stack: { state: string; target: string }[] };
}

describe('Chaos Toolkit experiments on the embedded runtime', () => {
  let dir: string;
  let runtime: LocalRuntime;
  const memory = new MemoryDriver({ targets: 4 });
  let api: LocalServer;
  let server: Server;
  let base: string;
  /** What `/health` answers; POST /break and /repair switch it, as a method action and a rollback would. */
  let health = 200;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chaosduck-ctk-'));
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/break') health = 500;
      if (url.pathname === '/repair') health = 200;
      if (url.pathname === '/slow') {
        setTimeout(() => res.end('late'), 3000);
        return;
      }
      if (url.pathname === '/fleet') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ services: [{ name: 'web', ready: true }, { name: 'db', ready: true }], count: 2 }));
        return;
      }
      res.statusCode = url.pathname === '/health' ? health : 200;
      res.setHeader('content-type', 'text/plain');
      res.end(`health ${health}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    runtime = await LocalRuntime.start({ dataDir: join(dir, 'data'), drivers: [memory] });
    api = await startServer({ runtime, token: TOKEN, port: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await runtime?.stop();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    health = 200;
    requests.length = 0;
  });

  const healthProbe = (name = 'web-ok', tolerance: unknown = 200) => ({ type: 'probe', name, tolerance, provider: { type: 'http', url: '${base}/health' } });
  const post = (name: string, path: string) => ({ type: 'action', name, provider: { type: 'http', method: 'POST', url: `\${base}${path}` } });
  const touch = (name: string, file: string) => ({ type: 'action', name, provider: { type: 'process', path: 'sh', arguments: ['-c', `echo ${name} >> ${join(dir, file)}`] } });
  const experiment = (fields: Json) => ({
    title: 'web keeps answering',
    description: 'a Chaos Toolkit experiment',
    configuration: { base },
    'steady-state-hypothesis': { title: 'web answers 200', probes: [healthProbe()] },
    method: [],
    ...fields,
  });
  const run = async (document: Json, settings: Json = {}) => {
    const record = await runtime.run({ format: 'chaostoolkit', experiment: document, settings });
    const journal = (await runtime.journal(record.id)) as unknown as Journal;
    return { record, journal };
  };

  it('all met: completed, not deviated, the method in order, the declared rollbacks after it in declared order', async () => {
    const { record, journal } = await run(
      experiment({
        method: [touch('first', 'order.log'), touch('second', 'order.log')],
        rollbacks: [touch('undo-a', 'order.log'), touch('undo-b', 'order.log')],
      }),
    );
    expect(record.status).toBe('completed');
    expect([journal.status, journal.deviated]).toEqual(['completed', false]);
    expect(journal.run.map((r) => r.activity.name)).toEqual(['first', 'second']);
    expect(journal.rollbacks.map((r) => r.activity.name)).toEqual(['undo-a', 'undo-b']);
    // Declared order, not last-first: Chaos Toolkit plays rollbacks as written.
    expect(readFileSync(join(dir, 'order.log'), 'utf8').split('\n').filter(Boolean)).toEqual(['first', 'second', 'undo-a', 'undo-b']);
    expect(journal.steady_states.before?.steady_state_met).toBe(true);
    expect(journal.steady_states.after?.steady_state_met).toBe(true);
    expect(journal.run[0]?.output).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('a missed baseline is completed and not deviated, the method skipped (exactly as chaos run)', async () => {
    health = 503;
    const { record, journal } = await run(experiment({ method: [post('break', '/break')], rollbacks: [post('repair', '/repair')] }), {
      rollback_strategy: 'default',
    });
    expect([journal.status, journal.deviated]).toEqual(['completed', false]);
    expect(record.status).toBe('aborted');
    expect(record.reason).toBe('steady_state_not_met');
    expect(journal.run).toEqual([]);
    expect(requests).not.toContain('POST /break');
    // With the strategy given explicitly, as Chaos Toolkit: its default plays the rollbacks of a completed run.
    expect(journal.rollbacks.map((r) => r.activity.name)).toEqual(['repair']);
    expect(journal.steady_states.after).toBeNull();
  });

  it('a missed baseline without a strategy: ChaosDuck plays no rollback, since no method action started', async () => {
    health = 503;
    const { journal } = await run(experiment({ method: [post('break', '/break')], rollbacks: [post('repair', '/repair')] }));
    expect(journal.status).toBe('completed');
    expect(journal.rollbacks).toEqual([]);
    expect(requests).not.toContain('POST /repair');
  });

  it('a baseline probe that errors (connection refused) is failed, not completed', async () => {
    const { journal } = await run(
      experiment({
        'steady-state-hypothesis': { title: 'reachable', probes: [{ type: 'probe', name: 'nowhere', tolerance: 200, provider: { type: 'http', url: 'http://127.0.0.1:1/' } }] },
        method: [post('break', '/break')],
        rollbacks: [post('repair', '/repair')],
      }),
      { rollback_strategy: 'default' },
    );
    expect([journal.status, journal.deviated]).toEqual(['failed', false]);
    expect(journal.steady_states.before?.probes[0]).toMatchObject({ status: 'failed', tolerance_met: false });
    expect(journal.rollbacks).toEqual([]);
  });

  it('an after-check that misses: completed and deviated; the rollbacks play', async () => {
    const { record, journal } = await run(experiment({ method: [post('break', '/break')], rollbacks: [post('repair', '/repair')] }));
    expect([journal.status, journal.deviated]).toEqual(['completed', true]);
    expect(record.deviated).toBe(true);
    expect(journal.steady_states.after).toMatchObject({ steady_state_met: false });
    expect(journal.rollbacks.map((r) => r.activity.name)).toEqual(['repair']);
    expect(health).toBe(200);
  });

  describe('an after-check probe that errors (the method took the service down)', () => {
    const broken = () =>
      experiment({
        'steady-state-hypothesis': {
          title: 'answers in time',
          probes: [{ type: 'probe', name: 'web-fast', tolerance: 200, provider: { type: 'http', url: '${base}/slow', timeout: 1 } }],
        },
        method: [post('break', '/break')],
        rollbacks: [post('repair', '/repair')],
      });

    it('with Chaos Toolkit`s default strategy: failed and deviated, and the rollbacks are not played', async () => {
      // The baseline needs /slow to answer in time; it never does, so pin the outcome of the after-check alone.
      const { journal } = await run(broken(), { rollback_strategy: 'default', hypothesis_strategy: 'after-method-only' });
      expect([journal.status, journal.deviated]).toEqual(['failed', true]);
      expect(journal.rollbacks).toEqual([]);
      expect(journal.chaosduck.rollback_stack).toEqual([expect.objectContaining({ target: 'repair', state: 'skipped' })]);
      expect(health).toBe(500);
    });

    it('with no strategy given, ChaosDuck plays them anyway: a method action started (a deliberate difference, for safety)', async () => {
      const { journal } = await run(broken(), { hypothesis_strategy: 'after-method-only' });
      expect([journal.status, journal.deviated]).toEqual(['failed', true]);
      expect(journal.rollbacks.map((r) => r.activity.name)).toEqual(['repair']);
      expect(health).toBe(200);
    });
  });

  it('a method activity that fails does not stop the method nor fail the run; 4xx/5xx and non-zero exits are not failures', async () => {
    const { journal } = await run(
      experiment({
        method: [
          { type: 'action', name: 'too-slow', provider: { type: 'process', path: 'sleep', arguments: ['5'], timeout: 0.5 } },
          { type: 'action', name: 'exits-3', provider: { type: 'process', path: 'sh', arguments: ['-c', 'echo out; echo err >&2; exit 3'] } },
          { type: 'probe', name: 'teapot', provider: { type: 'http', url: '${base}/health', method: 'post' } },
        ],
      }),
    );
    expect([journal.status, journal.deviated]).toEqual(['completed', false]);
    expect(journal.run.map((r) => [r.activity.name, r.status])).toEqual([
      ['too-slow', 'failed'],
      ['exits-3', 'succeeded'],
      ['teapot', 'succeeded'],
    ]);
    expect(journal.run[0]?.exception?.join(' ')).toContain('process activity took too long to complete');
    expect(journal.run[1]?.output).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('judges every tolerance kind on real outputs, a probe used as a tolerance included', async () => {
    const fleet = { type: 'http', url: '${base}/fleet' };
    const { journal } = await run(
      experiment({
        'steady-state-hypothesis': {
          title: 'every kind',
          probes: [
            { type: 'probe', name: 'status-list', tolerance: [200, 204], provider: { type: 'http', url: '${base}/health' } },
            { type: 'probe', name: 'jsonpath-filter', tolerance: { type: 'jsonpath', path: '$.body.services[*][?(@.name="web")].ready', expect: true }, provider: fleet },
            { type: 'probe', name: 'jsonpath-count', tolerance: { type: 'jsonpath', path: '$.body.services[*]', count: 2 }, provider: fleet },
            { type: 'probe', name: 'range', tolerance: { type: 'range', range: [1, 5], target: 'status' }, provider: { type: 'process', path: 'sh', arguments: ['-c', 'exit 2'] } },
            { type: 'probe', name: 'regex', tolerance: { type: 'regex', pattern: '^health (?P<code>\\d+)$', target: 'body' }, provider: { type: 'http', url: '${base}/health' } },
            { type: 'probe', name: 'exit-zero', tolerance: 0, provider: { type: 'process', path: 'true' } },
            {
              type: 'probe',
              name: 'judged-by-an-http-probe',
              // It receives the output as `value` (GET: in the query string) and is met when it returns something truthy.
              tolerance: { type: 'probe', name: 'judge', provider: { type: 'http', url: '${base}/judge', arguments: {} } },
              provider: { type: 'process', path: 'echo', arguments: ['ok'] },
            },
            {
              type: 'probe',
              name: 'judged-by-a-process-probe',
              // Surprising, and as chaoslib: a process's output is a mapping, always truthy, so its exit code is ignored.
              tolerance: { type: 'probe', name: 'says-no', provider: { type: 'process', path: 'sh', arguments: { '-c': 'exit 1' } } },
              provider: { type: 'process', path: 'true' },
            },
            {
              type: 'probe',
              name: 'judged-by-a-probe-that-fails',
              tolerance: { type: 'probe', name: 'too-slow', provider: { type: 'process', path: 'sh', arguments: { '-c': 'sleep 5' }, timeout: 0.3 } },
              provider: { type: 'process', path: 'true' },
            },
          ],
        },
      }),
    );
    expect(journal.steady_states.before?.probes.map((p) => [(p.activity as Json).name, p.tolerance_met])).toEqual([
      ['status-list', true],
      ['jsonpath-filter', true],
      ['jsonpath-count', true],
      ['range', true],
      ['regex', true],
      ['exit-zero', true],
      ['judged-by-an-http-probe', true],
      ['judged-by-a-process-probe', true],
      ['judged-by-a-probe-that-fails', false],
    ]);
    // As requests encodes it: the output's Python text, form-encoded.
    expect(requests).toContain(`GET /judge?${new URLSearchParams({ value: "{'status': 0, 'stdout': 'ok\\n', 'stderr': ''}" })}`);
    expect([journal.status, journal.deviated]).toEqual(['completed', false]);
  });

  it('stops at the first probe that misses, as chaoslib does; a boolean tolerance never matches an http output', async () => {
    const { journal } = await run(
      experiment({
        'steady-state-hypothesis': { title: 'first miss', probes: [healthProbe('bool', true), healthProbe('never-run')] },
      }),
    );
    expect(journal.steady_states.before?.probes.map((p) => (p.activity as Json).name)).toEqual(['bool']);
    expect([journal.status, journal.deviated]).toEqual(['completed', false]);
  });

  it('substitutes configuration from the environment and overrides (--var), but never in a process path', async () => {
    process.env.CHAOSDUCK_TEST_WORD = 'from-env';
    try {
      const { journal } = await run(
        experiment({
          configuration: { base, word: { type: 'env', key: 'CHAOSDUCK_TEST_WORD' }, count: { type: 'env', key: 'CHAOSDUCK_TEST_MISSING', default: '3', env_var_type: 'int' } },
          method: [{ type: 'probe', name: 'echo', provider: { type: 'process', path: 'echo', arguments: ['${word}', '${count}', '${nobody}', '${override}'] } }],
        }),
        { configuration: { override: 'from-var' } },
      );
      expect(journal.run[0]?.output?.stdout).toBe('from-env 3 ${nobody} from-var\n');
    } finally {
      delete process.env.CHAOSDUCK_TEST_WORD;
    }
  });

  it('checks the hypothesis while the method runs (continuously), between the steps of its pauses', async () => {
    const { journal } = await run(
      experiment({ method: [{ ...touch('slowly', 'during.log'), pauses: { before: 1, after: 2 } }] }),
      { hypothesis_strategy: 'continuously', hypothesis_frequency: 1 },
    );
    expect([journal.status, journal.deviated]).toEqual(['completed', false]);
    expect(journal.steady_states.before).not.toBeNull();
    expect(journal.steady_states.after).not.toBeNull();
    expect(journal.steady_states.during.length).toBeGreaterThanOrEqual(2);
    expect(journal.steady_states.during.every((d) => d.steady_state_met)).toBe(true);
  });

  it('--fail-fast during the method only: the method stops, failed and not deviated; the default strategy plays no rollback', async () => {
    const { journal } = await run(
      experiment({
        method: [post('break', '/break'), { ...touch('after-break', 'failfast.log'), pauses: { before: 2 } }],
        rollbacks: [post('repair', '/repair')],
      }),
      { hypothesis_strategy: 'during-method-only', fail_fast: true, rollback_strategy: 'default' },
    );
    expect([journal.status, journal.deviated]).toEqual(['failed', false]);
    expect(journal.run.map((r) => r.activity.name)).toEqual(['break']);
    expect(existsSync(join(dir, 'failfast.log'))).toBe(false);
    expect(journal.rollbacks).toEqual([]);
    expect(journal.steady_states.before).toBeNull();
    expect(journal.steady_states.during.some((d) => !d.steady_state_met)).toBe(true);
    await fetch(`${base}/repair`, { method: 'POST' });
  });

  it('strategies before-method-only and after-method-only check once', async () => {
    const before = await run(experiment({ method: [post('break', '/break')], rollbacks: [post('repair', '/repair')] }), { hypothesis_strategy: 'before-method-only' });
    expect([before.journal.status, before.journal.deviated, before.journal.steady_states.after]).toEqual(['completed', false, null]);
    const after = await run(experiment({ method: [post('break', '/break')], rollbacks: [post('repair', '/repair')] }), { hypothesis_strategy: 'after-method-only' });
    expect([after.journal.status, after.journal.deviated, after.journal.steady_states.before]).toEqual(['completed', true, null]);
  });

  it('rollback strategies never and deviated, given explicitly, as Chaos Toolkit', async () => {
    const never = await run(experiment({ method: [touch('act', 'never.log')], rollbacks: [touch('undo', 'never.log')] }), { rollback_strategy: 'never' });
    expect(never.journal.rollbacks).toEqual([]);
    const notDeviated = await run(experiment({ method: [touch('act', 'dev.log')], rollbacks: [touch('undo', 'dev.log')] }), { rollback_strategy: 'deviated' });
    expect(notDeviated.journal.rollbacks).toEqual([]);
    const deviated = await run(experiment({ method: [post('break', '/break')], rollbacks: [post('repair', '/repair')] }), { rollback_strategy: 'deviated' });
    expect(deviated.journal.rollbacks.map((r) => r.activity.name)).toEqual(['repair']);
    // The strategy may also be written in the file.
    const inFile = await run(experiment({ method: [touch('act', 'file.log')], rollbacks: [touch('undo', 'file.log')], runtime: { rollbacks: { strategy: 'never' } } }));
    expect(inFile.journal.rollbacks).toEqual([]);
  });

  it('--dry actions: nothing the method would change runs, yet the run is journaled', async () => {
    const { journal } = await run(experiment({ method: [touch('would-touch', 'dry.log'), post('would-break', '/break')], rollbacks: [touch('would-undo', 'dry.log')] }), {
      dry: 'actions',
    });
    expect(existsSync(join(dir, 'dry.log'))).toBe(false);
    expect(requests).not.toContain('POST /break');
    expect(journal.run.map((r) => r.activity.name)).toEqual(['would-touch', 'would-break']);
    // The rollbacks are actions too: recorded, not executed.
    expect(journal.rollbacks.map((r) => [r.activity.name, r.output ?? null])).toEqual([['would-undo', null]]);
    expect(journal.experiment.dry).toBe('actions');
    expect(journal.status).toBe('completed');
  });

  it('an interruption during a pause: interrupted, and the declared rollbacks still play (none with the default strategy)', async () => {
    const document = experiment({ method: [{ ...post('break', '/break'), pauses: { after: 30 } }], rollbacks: [post('repair', '/repair')] });
    const waitForBreak = async () => {
      for (let i = 0; i < 200 && !requests.includes('POST /break'); i++) await new Promise((r) => setTimeout(r, 100));
    };
    const { id } = await runtime.submit({ format: 'chaostoolkit', experiment: document, settings: {} });
    await waitForBreak();
    const record = await runtime.abort(id, 'interrupted');
    const journal = (await runtime.journal(record.id)) as unknown as Journal;
    expect(journal.status).toBe('interrupted');
    expect(journal.rollbacks.map((r) => r.activity.name)).toEqual(['repair']);
    expect(health).toBe(200);

    requests.length = 0;
    const explicit = await runtime.submit({ format: 'chaostoolkit', experiment: document, settings: { rollback_strategy: 'default' } });
    await waitForBreak();
    const stopped = await runtime.abort(explicit.id, 'interrupted');
    const strictJournal = (await runtime.journal(stopped.id)) as unknown as Journal;
    expect(strictJournal.status).toBe('interrupted');
    expect(strictJournal.rollbacks).toEqual([]);
    expect(health).toBe(500);
  });

  it('several built-in faults in one method: each rollback written ahead; undone last change first, then the declared rollbacks', async () => {
    const fault = (name: string, replica: string) => ({
      type: 'action',
      name,
      provider: { type: 'chaosduck', chaos_type: 'network_latency', target: { provider: 'memory', pod_names: [replica] }, parameters: { latency_ms: 50 } },
    });
    memory.calls.length = 0;
    const { record, journal } = await run(
      experiment({ method: [fault('slow-1', 'replica-1'), touch('between', 'faults.log'), fault('slow-2', 'replica-2')], rollbacks: [touch('declared', 'faults.log')] }),
    );
    expect(record.status).toBe('completed');
    expect(journal.run.map((r) => [r.activity.name, r.status])).toEqual([
      ['slow-1', 'succeeded'],
      ['between', 'succeeded'],
      ['slow-2', 'succeeded'],
    ]);
    expect(memory.calls.map((c) => `${c.op} ${c.target}`)).toEqual(['apply replica-1', 'apply replica-2', 'revert replica-2', 'revert replica-1']);
    expect(journal.rollbacks.map((r) => r.activity.name)).toEqual(['rollback clear_fault replica-2', 'rollback clear_fault replica-1', 'declared']);
    expect([...memory.targets.values()].every((t) => !t.faulted)).toBe(true);
  });

  it('names a bad built-in fault in a method at its field, and runs nothing', async () => {
    const document = experiment({
      method: [
        touch('must-not-run', 'bad-fault.log'),
        { type: 'action', name: 'bad', provider: { type: 'chaosduck', chaos_type: 'network_latency', target: { provider: 'memory' }, parameters: { latency_ms: -1 } } },
        { type: 'probe', name: 'not-a-fault', provider: { type: 'chaosduck', chaos_type: 'pod_delete' } },
      ],
    });
    const refused = (await runtime.submit({ format: 'chaostoolkit', experiment: document }).catch((error: unknown) => error)) as ValidationError;
    expect(refused.issues.map((issue) => issue.field)).toEqual(
      expect.arrayContaining(['experiment.method[2].provider.type', 'experiment.method[1].provider.target.labels', 'experiment.method[1].provider.parameters.latency_ms']),
    );
    expect(existsSync(join(dir, 'bad-fault.log'))).toBe(false);
  });

  it('safety.timeout_seconds bounds the run (Chaos Toolkit has no overall timeout): the activity is cut, the run aborted, rolled back', async () => {
    const { record, journal } = await run(
      experiment({
        method: [
          { type: 'action', name: 'hangs', provider: { type: 'process', path: 'sleep', arguments: ['30'] } },
          touch('never-reached', 'timeout.log'),
        ],
        rollbacks: [touch('undo', 'timeout-undo.log')],
        extensions: [{ name: 'chaosduck', safety: { timeout_seconds: 2 } }],
      }),
    );
    expect([journal.status, journal.deviated]).toEqual(['aborted', false]);
    expect(record.reason).toBe('ExperimentTimeoutError');
    expect(journal.run.map((r) => [r.activity.name, r.status])).toEqual([['hangs', 'failed']]);
    expect(journal.run[0]?.exception?.join(' ')).toContain('safety.timeout_seconds');
    expect(existsSync(join(dir, 'timeout.log'))).toBe(false);
    expect(journal.rollbacks.map((r) => [r.activity.name, r.status])).toEqual([['undo', 'succeeded']]);
  });

  it('a stop while a process action runs: once the action lands, the declared rollbacks play again, so its change is undone', async () => {
    const log = join(dir, 'late.log');
    const document: Json = experiment({
      method: [{ type: 'action', name: 'slow-break', provider: { type: 'process', path: 'sh', arguments: ['-c', `sleep 2; echo break >> ${log}`] } }],
      rollbacks: [{ type: 'action', name: 'repair', provider: { type: 'process', path: 'sh', arguments: ['-c', `echo repair >> ${log}`] } }],
    });
    delete document['steady-state-hypothesis'];
    const { id } = await runtime.submit({ format: 'chaostoolkit', experiment: document });
    for (let i = 0; i < 100 && (await runtime.store.getExperiment(id)).phase !== 'INJECT'; i++) await new Promise((r) => setTimeout(r, 50));
    const record = await runtime.abort(id, 'interrupted');
    expect(record.status).toBe('rolled_back');
    // The action lands after the rollback run has played `repair`; INJECT then plays it again.
    const lines = async () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
    for (let i = 0; i < 200 && (await lines()).filter((l) => l === 'repair').length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await lines()).toEqual(['repair', 'break', 'repair']);
  });

  it('an emergency stop while a background action runs: interrupted, rolled back, and the process carries on', async () => {
    const log = join(dir, 'background.log');
    const document: Json = experiment({
      method: [
        { type: 'action', name: 'in-background', background: true, provider: { type: 'process', path: 'sh', arguments: ['-c', `sleep 1; echo bg >> ${log}`] } },
        { type: 'action', name: 'in-front', provider: { type: 'process', path: 'sleep', arguments: ['1.5'] } },
      ],
      rollbacks: [{ type: 'action', name: 'undo', provider: { type: 'process', path: 'sh', arguments: ['-c', `echo undo >> ${log}`] } }],
    });
    const { id } = await runtime.submit({ format: 'chaostoolkit', experiment: document });
    for (let i = 0; i < 100 && (await runtime.store.getExperiment(id)).phase !== 'INJECT'; i++) await new Promise((r) => setTimeout(r, 50));
    await runtime.emergencyStop('test');
    try {
      await runtime.settleFanOuts();
      const record = await runtime.waitFor(id);
      const journal = (await runtime.journal(id)) as unknown as Journal;
      expect(record.status).toBe('emergency_stopped');
      expect(journal.status).toBe('interrupted');
      // Both actions land after the stop; the declared rollback is played once they have.
      for (let i = 0; i < 100 && !readFileSync(log, 'utf8').trimEnd().endsWith('undo'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(readFileSync(log, 'utf8').trimEnd().split('\n').at(-1)).toBe('undo');
    } finally {
      await runtime.liftEmergencyStop();
    }
  });

  it('answers what would otherwise fail later with a named field: a reference to itself, a fault declared as a probe, a file too large', async () => {
    const refusal = async (document: Json) => ((await runtime.submit(document).catch((error: unknown) => error)) as ValidationError).issues;
    expect(await refusal(experiment({ method: [healthProbe('a'), { name: 'b', ref: 'b' }] }))).toEqual([
      { field: 'method[1].ref', message: "referenced activity 'b' could not be found in the experiment" },
    ]);
    const kill = { type: 'probe', name: 'sneaky', provider: { type: 'python', module: 'chaosk8s.pod.actions', func: 'terminate_pods', arguments: { label_selector: 'app=x' } } };
    expect(await refusal(experiment({ method: [kill] }))).toEqual([
      { field: 'method[0].provider.func', message: "chaosk8s.pod.actions.terminate_pods applies a fault, so it must be declared as an action (activity 'sneaky' is a probe)" },
    ]);
    expect(await refusal(experiment({ description: 'x'.repeat(70_000) }))).toEqual([{ field: 'description', message: expect.stringMatching(/^too large: the experiment is \d+ bytes/) }]);
  });

  it('refuses a python provider it does not run before anything executes, naming activity, module and function', async () => {
    const document = experiment({
      method: [touch('must-not-run', 'python.log'), { type: 'action', name: 'custom', provider: { type: 'python', module: 'mycompany.chaos', func: 'break_things' } }],
    });
    const refused = await runtime.submit({ format: 'chaostoolkit', experiment: document }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues).toEqual([
      { field: 'experiment.method[1].provider.func', message: expect.stringMatching(/action 'custom' calls the python function mycompany\.chaos\.break_things.*nothing was executed/) },
    ]);
    expect(existsSync(join(dir, 'python.log'))).toBe(false);
  });

  it('a missing environment key is a validation error naming it; nothing is stored', async () => {
    const document = experiment({ configuration: { token: { type: 'env', key: 'CHAOSDUCK_TEST_NOT_SET' } } });
    const refused = await runtime.submit(document).catch((error: unknown) => error);
    expect((refused as ValidationError).issues).toEqual([
      { field: 'configuration.token', message: 'Configuration makes reference to an environment key that does not exist: CHAOSDUCK_TEST_NOT_SET' },
    ]);
  });

  describe('over the REST API', () => {
    const call = apiClient(() => api.url, TOKEN);

    it('POST /api/chaos/experiments takes a Chaos Toolkit document as the body, told apart by its shape', async () => {
      const created = await call(
        'POST',
        '/api/chaos/experiments',
        experiment({ method: [post('break', '/break')], rollbacks: [post('repair', '/repair')], controls: [{ name: 'tracing', provider: { type: 'python', module: 'chaostracing.control' } }] }),
      );
      expect(created.status).toBe(202);
      expect(created.body.warnings).toEqual([expect.stringContaining('controls are not run by ChaosDuck and are ignored: tracing')]);
      let body: Record<string, any> = {};
      for (let i = 0; i < 600 && !['completed', 'failed', 'aborted', 'rolled_back', 'emergency_stopped'].includes(body.status); i++) {
        body = (await call('GET', `/api/chaos/experiments/${created.body.id}`)).body;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(body.journal).toMatchObject({ status: 'completed', deviated: true, rollbacks: [expect.objectContaining({ status: 'succeeded' })] });
      expect(body.journal.experiment.title).toBe('web keeps answering');
      const listed = await call('GET', '/api/chaos/experiments?limit=100');
      expect(listed.body.items.find((item: Json) => item.id === created.body.id)).toMatchObject({ format: 'chaostoolkit', chaos_type: null });
    });

    it('POST /api/chaos/dry-run lists the method and runs nothing', async () => {
      const answer = await call('POST', '/api/chaos/dry-run', experiment({ method: [post('break', '/break'), healthProbe('look')], rollbacks: [post('repair', '/repair')] }));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        dry_run: true,
        format: 'chaostoolkit',
        method: [
          { index: 0, type: 'action', name: 'break', provider: 'http', plan: null },
          { index: 1, type: 'probe', name: 'look', provider: 'http', plan: null },
        ],
        rollbacks: ['repair'],
      });
      expect(requests).toEqual([]);
    });

    it('answers a bad Chaos Toolkit document with 400 and every problem in chaoslib`s words', async () => {
      const answer = await call('POST', '/api/chaos/experiments', {
        title: '',
        description: 'x',
        method: [{ type: 'action', name: 'a', provider: { type: 'http' } }, { ref: 'ghost' }],
        'steady-state-hypothesis': { title: 't', probes: [{ type: 'probe', name: 'p', provider: { type: 'http', url: 'http://x' }, tolerance: { type: 'nope' } }] },
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error.fields).toEqual(
        expect.arrayContaining([
          { field: 'title', message: 'experiment requires a title' },
          { field: 'method[0].provider.url', message: 'a HTTP activity must have a URL' },
          { field: 'method[1].ref', message: "referenced activity 'ghost' could not be found in the experiment" },
          { field: 'steady-state-hypothesis.probes[0].tolerance', message: "hypothesis probe tolerance type 'nope' is unsupported" },
        ]),
      );
    });
  });
});
