import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityRecord } from '../../../shared/journal/activity.js';
import { CMD_LOCAL_ONLY } from '../../../shared/probes/cmd.js';
import { REDACTED, allMet, runProbe, runProbes } from '../../../shared/probes/index.js';
import { cmdProbe, httpProbe, localEnv } from './fixtures.js';
import { startTestServer, type TestServer } from './test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const lambdaEnv = { runtime: 'lambda', signal: new AbortController().signal } as const;

function expectTimes(record: ActivityRecord): void {
  const start = Date.parse(record.start);
  const end = Date.parse(record.end);
  expect(new Date(start).toISOString()).toBe(record.start);
  expect(end).toBeGreaterThanOrEqual(start);
  expect(record.duration).toBeCloseTo((end - start) / 1000, 3);
}

describe('runProbe', () => {
  it('records a passing http probe as a succeeded activity', async () => {
    const record = await runProbe(httpProbe({ url: `${server.url}/ok` }, 'front-page'), localEnv());
    expect(record).toEqual({
      activity: {
        type: 'probe',
        name: 'front-page',
        provider: { type: 'http', url: `${server.url}/ok`, method: 'GET', headers: {}, timeout_ms: 5000, expected_status: 200 },
      },
      status: 'succeeded',
      tolerance_met: true,
      output: expect.objectContaining({ status: 200, failures: [] }),
      start: expect.any(String),
      end: expect.any(String),
      duration: expect.any(Number),
    });
    expectTimes(record);
  });

  it('records a probe out of tolerance as failed, with the output saying why', async () => {
    const record = await runProbe(httpProbe({ url: `${server.url}/error` }), localEnv());
    expect(record).toMatchObject({
      status: 'failed',
      tolerance_met: false,
      output: { status: 500, failures: ['status 500, expected 200'] },
    });
    expect(record).not.toHaveProperty('exception');
  });

  it('records a passing cmd probe with its arguments', async () => {
    const record = await runProbe(cmdProbe({ command: ['echo', 'up'], stdout_contains: 'up' }, 'uptime'), localEnv());
    expect(record).toMatchObject({
      activity: {
        type: 'probe',
        name: 'uptime',
        provider: { type: 'cmd', command: ['echo', 'up'], env: {}, timeout_ms: 10_000, expected_exit_code: 0, stdout_contains: 'up' },
      },
      status: 'succeeded',
      tolerance_met: true,
      output: { exit_code: 0, stdout_excerpt: 'up\n' },
    });
    expectTimes(record);
  });

  it('records a refused cmd probe on lambda as an exception, not an output', async () => {
    const record = await runProbe(cmdProbe({ command: 'true' }, 'disk'), lambdaEnv);
    expect(record).toMatchObject({
      status: 'failed',
      tolerance_met: false,
      exception: [`ValidationError: Invalid experiment: probes["disk"].type: ${CMD_LOCAL_ONLY}`],
    });
    expect(record).not.toHaveProperty('output');
    expectTimes(record);
  });

  it('records a cancelled run as an AbortError exception', async () => {
    const record = await runProbe(httpProbe({ url: `${server.url}/ok` }), localEnv(AbortSignal.abort()));
    expect(record).toMatchObject({ status: 'failed', tolerance_met: false, exception: [expect.stringMatching(/^AbortError: /)] });
  });

  it('keeps credentials out of the journal but still sends them', async () => {
    const headers = { authorization: 'Bearer s3cret' };
    const probe = httpProbe({ url: `${server.url}/ok`, method: 'POST', headers, body: 'pw=hunter2' });
    const record = await runProbe(probe, localEnv());
    expect(record).toMatchObject({
      status: 'succeeded',
      activity: { provider: { url: `${server.url}/ok`, headers: { authorization: REDACTED }, body: REDACTED } },
    });
    expect(JSON.stringify(record)).not.toMatch(/hunter2|s3cret/);
    expect(server.requests.at(-1)).toMatchObject({ headers: { authorization: 'Bearer s3cret' }, body: 'pw=hunter2' });

    const withUser = await runProbe(httpProbe({ url: server.url.replace('//', '//admin:hunter2@') + '/ok' }), localEnv());
    expect(withUser).toMatchObject({
      status: 'succeeded',
      activity: { provider: { url: server.url.replace('//', `//${REDACTED}:${REDACTED}@`) + '/ok' } },
    });
    expect(JSON.stringify(withUser)).not.toContain('hunter2');

    const cmd = await runProbe(cmdProbe({ command: 'test "${#TOKEN}" -eq 6', env: { TOKEN: 's3cret' } }), localEnv());
    expect(cmd).toMatchObject({ status: 'succeeded', activity: { provider: { env: { TOKEN: REDACTED } } } });
    expect(JSON.stringify(cmd)).not.toContain('s3cret');
  });
});

describe('runProbes', () => {
  it('runs probes concurrently and returns records in input order', async () => {
    // `/pair` answers only when two requests wait on it at once: run one after the other, the first would time out.
    const records = await runProbes(
      [
        httpProbe({ url: `${server.url}/pair`, timeout_ms: 10_000 }, 'pair-a'),
        cmdProbe({ command: 'echo between' }, 'between'),
        httpProbe({ url: `${server.url}/pair`, timeout_ms: 10_000 }, 'pair-b'),
      ],
      localEnv(),
    );
    expect(records.map((r) => r.activity.name)).toEqual(['pair-a', 'between', 'pair-b']);
    expect(records.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('returns a record for every probe even when some fail', async () => {
    const records = await runProbes(
      [httpProbe({ url: `${server.url}/error` }, 'bad'), cmdProbe({ command: 'true' }, 'refused'), httpProbe({ url: `${server.url}/ok` }, 'good')],
      lambdaEnv,
    );
    expect(records.map((r) => [r.activity.name, r.status])).toEqual([
      ['bad', 'failed'],
      ['refused', 'failed'],
      ['good', 'succeeded'],
    ]);
  });
});

describe('allMet', () => {
  const record = (tolerance_met: boolean): ActivityRecord => ({
    activity: { type: 'probe', name: 'p', provider: { type: 'http' } },
    status: tolerance_met ? 'succeeded' : 'failed',
    start: '2025-01-01T00:00:00.000Z',
    end: '2025-01-01T00:00:01.000Z',
    duration: 1,
    tolerance_met,
  });

  it('is true only when every probe met its tolerance', () => {
    expect(allMet([record(true), record(true)])).toBe(true);
    expect(allMet([record(true), record(false)])).toBe(false);
  });

  it('is true for no probes', () => {
    expect(allMet([])).toBe(true);
  });
});
