import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHttpProbe } from '../../../shared/probes/http.js';
import { httpProbe, localEnv } from './fixtures.js';
import { SLOW_MS, closedPort, startTestServer, type TestServer } from './test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const run = (properties: Parameters<typeof httpProbe>[0], env = localEnv()) => runHttpProbe(httpProbe(properties), env);

describe('runHttpProbe: status', () => {
  it('passes a 200 with the default expected_status and reports what it saw', async () => {
    const outcome = await run({ url: `${server.url}/ok` });
    expect(outcome.ok).toBe(true);
    expect(outcome.output).toMatchObject({ status: 200, body_excerpt: 'all good: the duck is healthy', failures: [] });
    expect(outcome.output).toHaveProperty('latency_ms', expect.any(Number));
  });

  it('fails a 500 against the default 200', async () => {
    const outcome = await run({ url: `${server.url}/error` });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ status: 500, failures: ['status 500, expected 200'] });
  });

  it('accepts any status of a list and names the list when none matches', async () => {
    expect((await run({ url: `${server.url}/no-content`, expected_status: [200, 204] })).ok).toBe(true);
    const outcome = await run({ url: `${server.url}/error`, expected_status: [200, 204] });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ failures: ['status 500, expected one of 200, 204'] });
  });

  it('can expect an error status', async () => {
    expect((await run({ url: `${server.url}/error`, expected_status: 500 })).ok).toBe(true);
  });
});

describe('runHttpProbe: latency', () => {
  it('fails a response slower than max_latency_ms', async () => {
    const outcome = await run({ url: `${server.url}/slow`, max_latency_ms: 100 });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({
      status: 200,
      failures: [expect.stringMatching(/^latency \d+ ms exceeds max_latency_ms 100$/)],
    });
  });

  it('passes a slow response within a generous max_latency_ms', async () => {
    expect((await run({ url: `${server.url}/slow`, max_latency_ms: 30_000 })).ok).toBe(true);
  });

  it('measures latency to the end of the body, not to the headers', async () => {
    const outcome = await run({ url: `${server.url}/slow-body` });
    expect(outcome.output).toMatchObject({ status: 200, body_excerpt: 'first half, second half' });
    // Timers never fire early, so this lower bound holds however loaded the machine is.
    expect(outcome.output).toHaveProperty('latency_ms', expect.toSatisfy((ms: number) => ms >= SLOW_MS - 5));
  });
});

describe('runHttpProbe: body', () => {
  it('checks body_contains', async () => {
    expect((await run({ url: `${server.url}/ok`, body_contains: 'healthy' })).ok).toBe(true);
    const outcome = await run({ url: `${server.url}/ok`, body_contains: 'sick' });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ failures: ['body does not contain "sick"'] });
  });

  it('checks body_matches as a regular expression', async () => {
    expect((await run({ url: `${server.url}/ok`, body_matches: 'duck is (healthy|fine)$' })).ok).toBe(true);
    const outcome = await run({ url: `${server.url}/ok`, body_matches: '^sick' });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ failures: ['body does not match /^sick/'] });
  });

  it('reports every failed tolerance, not just the first', async () => {
    const outcome = await run({ url: `${server.url}/error`, body_contains: 'fine', body_matches: 'ok' });
    expect(outcome.output).toMatchObject({
      failures: ['status 500, expected 200', 'body does not contain "fine"', 'body does not match /ok/'],
    });
  });

  it('reads a large body to the end but journals only an excerpt', async () => {
    const outcome = await run({ url: `${server.url}/big`, body_matches: '^x+$' });
    expect(outcome.ok).toBe(true);
    expect(outcome.output).toMatchObject({ status: 200, body_excerpt: 'x'.repeat(200) });
  });
});

describe('runHttpProbe: the request', () => {
  it('sends the method, headers and body', async () => {
    await run({ url: `${server.url}/ok?probe=1`, method: 'POST', headers: { 'x-probe': 'duck' }, body: '{"ping":true}' });
    expect(server.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/ok',
      headers: { 'x-probe': 'duck' },
      body: '{"ping":true}',
    });
  });

  it('sends credentials in the URL as Basic auth', async () => {
    const outcome = await run({ url: server.url.replace('//', '//duck:p%40ss@') + '/ok' });
    expect(outcome.ok).toBe(true);
    const expected = `Basic ${Buffer.from('duck:p@ss').toString('base64')}`;
    expect(server.requests.at(-1)).toMatchObject({ headers: { authorization: expected } });
  });

  it('lets an explicit authorization header win over URL credentials', async () => {
    await run({ url: server.url.replace('//', '//duck:pass@') + '/ok', headers: { Authorization: 'Bearer token' } });
    expect(server.requests.at(-1)).toMatchObject({ headers: { authorization: 'Bearer token' } });
  });
});

describe('runHttpProbe: failures on the way', () => {
  it('turns a timeout into a failed outcome', async () => {
    const outcome = await run({ url: `${server.url}/hang`, timeout_ms: 200 });
    expect(outcome).toEqual({
      ok: false,
      output: { status: null, latency_ms: expect.any(Number), body_excerpt: null, failures: ['timeout after 200 ms'] },
    });
  });

  it('times out a body that never ends', async () => {
    const outcome = await run({ url: `${server.url}/stall-body`, timeout_ms: 300 });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ failures: ['timeout after 300 ms'] });
  });

  it('turns a refused connection into a failed outcome', async () => {
    const port = await closedPort();
    const outcome = await run({ url: `http://127.0.0.1:${port}/ok` });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({ status: null, failures: [expect.stringMatching(/^connection refused: /)] });
  });
});

describe('runHttpProbe: cancellation', () => {
  it('throws when the run is cancelled mid-request', async () => {
    const controller = new AbortController();
    const pending = run({ url: `${server.url}/hang`, timeout_ms: 60_000 }, localEnv(controller.signal));
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('throws at once when the run was already cancelled', async () => {
    const before = server.requests.length;
    await expect(run({ url: `${server.url}/ok` }, localEnv(AbortSignal.abort()))).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(server.requests.length).toBe(before);
  });
});
