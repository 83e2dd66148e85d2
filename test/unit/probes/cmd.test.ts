import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../../shared/errors.js';
import { CMD_LOCAL_ONLY, assertProbesAllowed, runCmdProbe } from '../../../shared/probes/cmd.js';
import { cmdProbe, httpProbe, localEnv } from './fixtures.js';
import { isRunning } from './process-state.js';

let dir: string;
beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'cmd-probe-')));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (properties: Parameters<typeof cmdProbe>[0], env = localEnv()) => runCmdProbe(cmdProbe(properties), env);

/** Far longer than any timeout here, so a command left running, or waited for, shows up. */
const SLEEP_SECONDS = 30;

describe('runCmdProbe: exit code and output', () => {
  it('passes a command that exits 0 and reports what it saw', async () => {
    const outcome = await run({ command: 'echo hello; echo oops >&2' });
    expect(outcome).toEqual({
      ok: true,
      output: {
        exit_code: 0,
        signal: null,
        stdout_excerpt: 'hello\n',
        stderr_excerpt: 'oops\n',
        duration_ms: expect.any(Number),
        failures: [],
      },
    });
  });

  it('fails an unexpected exit code, and passes it when expected', async () => {
    const outcome = await run({ command: 'exit 3' });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ exit_code: 3, failures: ['exit code 3, expected 0'] });
    expect((await run({ command: 'exit 3', expected_exit_code: 3 })).ok).toBe(true);
  });

  it('checks stdout_contains', async () => {
    expect((await run({ command: 'echo status=green', stdout_contains: 'green' })).ok).toBe(true);
    const outcome = await run({ command: 'echo status=red', stdout_contains: 'green' });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ exit_code: 0, failures: ['stdout does not contain "green"'] });
  });

  it('checks stdout_matches as a regular expression', async () => {
    expect((await run({ command: 'echo replicas=3', stdout_matches: '^replicas=[1-9]' })).ok).toBe(true);
    const outcome = await run({ command: 'echo replicas=0', stdout_matches: '^replicas=[1-9]' });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ failures: ['stdout does not match /^replicas=[1-9]/'] });
  });

  it('does not look for stdout tolerances on stderr', async () => {
    const outcome = await run({ command: 'echo green >&2', stdout_contains: 'green' });
    expect(outcome.ok).toBe(false);
  });

  it('reports a command killed by a signal', async () => {
    const outcome = await run({ command: 'kill -9 $$' });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ exit_code: null, signal: 'SIGKILL', failures: ['killed by SIGKILL'] });
  });

  it('drains a chatty command but judges only the first 64 KiB of stdout', async () => {
    const outcome = await run({ command: 'yes chaos | head -c 5000000; echo END-MARKER', stdout_contains: 'END-MARKER' });
    expect(outcome.output).toMatchObject({
      exit_code: 0,
      stdout_excerpt: 'chaos\n'.repeat(40).slice(0, 200),
      failures: ['stdout does not contain "END-MARKER"'],
    });
  });
});

describe('runCmdProbe: shell or argv', () => {
  const env = { PROBE_WORD: 'expanded' };

  it('runs a string through /bin/sh', async () => {
    const outcome = await run({ command: 'echo "$PROBE_WORD" | tr a-z A-Z', env });
    expect(outcome.output).toMatchObject({ stdout_excerpt: 'EXPANDED\n' });
  });

  it('runs an array as argv, with no shell to expand or split', async () => {
    const literal = await run({ command: ['echo', '$PROBE_WORD', '|', 'tr'], env });
    expect(literal.output).toMatchObject({ stdout_excerpt: '$PROBE_WORD | tr\n' });
    const spaced = await run({ command: ['printf', '%s|', 'a b', 'c'] });
    expect(spaced.output).toMatchObject({ stdout_excerpt: 'a b|c|' });
  });

  it('fails, without throwing, when the program does not exist', async () => {
    const outcome = await run({ command: ['/nonexistent/probe-binary'] });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ exit_code: null, failures: [expect.stringMatching(/^failed to start: .*ENOENT/)] });
  });
});

describe('runCmdProbe: env and cwd', () => {
  it('merges env over the inherited environment', async () => {
    const outcome = await run({ command: 'printf "%s\\n%s" "$PROBE_VAR" "$PATH"', env: { PROBE_VAR: 'from-probe' } });
    expect(outcome.output).toMatchObject({ stdout_excerpt: `from-probe\n${process.env.PATH ?? ''}`.slice(0, 200) });
  });

  it('runs in cwd', async () => {
    const outcome = await run({ command: ['pwd', '-P'], cwd: dir });
    expect(outcome.output).toMatchObject({ stdout_excerpt: `${dir}\n` });
  });

  it('fails, without throwing, when cwd does not exist', async () => {
    const outcome = await run({ command: 'true', cwd: join(dir, 'missing') });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ failures: [expect.stringMatching(/^failed to start: /)] });
  });
});

describe('runCmdProbe: timeout', () => {
  it('kills a command that runs too long, with what the shell started', async () => {
    const outcome = await run({ command: `sleep ${SLEEP_SECONDS} & echo $!; wait`, timeout_ms: 300 });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ exit_code: null, signal: 'SIGKILL', failures: ['timeout after 300 ms'] });
    expect(outcome.output).toHaveProperty('duration_ms', expect.toSatisfy((ms: number) => ms < SLEEP_SECONDS * 1000));
    const sleeper = Number.parseInt(String((outcome.output as { stdout_excerpt: string }).stdout_excerpt), 10);
    await vi.waitFor(() => expect(isRunning(sleeper)).toBe(false), { timeout: 5000 });
  });

  it('kills an argv command that runs too long', async () => {
    const outcome = await run({ command: ['sleep', String(SLEEP_SECONDS)], timeout_ms: 200 });
    expect(outcome.output).toMatchObject({ signal: 'SIGKILL', failures: ['timeout after 200 ms'] });
  });

  it('returns even when a descendant left the process group and holds stdout open', async () => {
    const escape = `const c = require('node:child_process').spawn('sleep', ['${SLEEP_SECONDS}'], { detached: true, stdio: ['ignore', 'inherit', 'ignore'] }); console.log(c.pid); c.unref();`;
    const outcome = await run({ command: [process.execPath, '-e', escape], timeout_ms: 300 });
    const escaped = Number.parseInt((outcome.output as { stdout_excerpt: string }).stdout_excerpt, 10);
    try {
      expect(outcome.ok).toBe(false);
      expect(outcome.output).toMatchObject({ failures: ['timeout after 300 ms'] });
      expect(outcome.output).toHaveProperty('duration_ms', expect.toSatisfy((ms: number) => ms < SLEEP_SECONDS * 1000));
    } finally {
      if (escaped > 0) process.kill(escaped, 'SIGKILL');
    }
  });
});

describe('runCmdProbe: cancellation', () => {
  it('kills the command and throws when the run is cancelled', async () => {
    const pidFile = join(dir, 'cancelled.pid');
    const controller = new AbortController();
    const pending = run(
      { command: `echo $$ > "$PID_FILE"; exec sleep ${SLEEP_SECONDS}`, env: { PID_FILE: pidFile }, timeout_ms: 60_000 },
      localEnv(controller.signal),
    );
    await vi.waitFor(() => stat(pidFile), { timeout: 10_000 });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    const pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
    await vi.waitFor(() => expect(isRunning(pid)).toBe(false), { timeout: 5000 });
  });

  it('throws without starting anything when the run was already cancelled', async () => {
    const marker = join(dir, 'never-created');
    await expect(run({ command: ['touch', marker] }, localEnv(AbortSignal.abort()))).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('cmd probes on lambda', () => {
  it('refuses to run, naming the probe field', async () => {
    const marker = join(dir, 'lambda-ran');
    const pending = runCmdProbe(cmdProbe({ command: ['touch', marker] }, 'disk'), {
      runtime: 'lambda',
      signal: new AbortController().signal,
    });
    await expect(pending).rejects.toBeInstanceOf(ValidationError);
    await expect(pending).rejects.toMatchObject({
      issues: [{ field: 'probes["disk"].type', message: CMD_LOCAL_ONLY }],
      message: `Invalid experiment: probes["disk"].type: ${CMD_LOCAL_ONLY}`,
    });
    await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('assertProbesAllowed lists every cmd probe by index on lambda', () => {
    const probes = [httpProbe({ url: 'http://127.0.0.1/' }), cmdProbe({ command: 'true' }, 'a'), cmdProbe({ command: 'true' }, 'b')];
    const check = () => assertProbesAllowed(probes, 'lambda');
    expect(check).toThrow(ValidationError);
    expect(check).toThrow(
      expect.objectContaining({
        issues: [
          { field: 'probes[1].type', message: CMD_LOCAL_ONLY },
          { field: 'probes[2].type', message: CMD_LOCAL_ONLY },
        ],
      }),
    );
  });

  it('assertProbesAllowed lets http probes through on lambda, and everything through locally', () => {
    expect(() => assertProbesAllowed([httpProbe({ url: 'http://127.0.0.1/' })], 'lambda')).not.toThrow();
    expect(() => assertProbesAllowed([cmdProbe({ command: 'true' })], 'local')).not.toThrow();
  });
});
