/**
 * A REAL Prometheus server for tests: Debian's `prometheus` package (installed by `.ci/run`; installed here when
 * missing and the tests run as root, else the tests that need it are skipped, saying why), started on a free loopback
 * port with its own temporary TSDB and a generated configuration that scrapes the given targets every second.
 *
 * The server runs under `setpriv --pdeathsig KILL` when util-linux has it: however the test process goes, SIGKILL
 * included, the kernel kills Prometheus with it, so a crashed run never leaves one behind.
 *
 * Its web configuration (`--web.config.file`, re-read on every request) starts empty; `requireBasicAuth` turns on
 * basic authentication for a test that needs it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { debianPackage, type DebianExecutable } from './debian.js';
import { freePort } from './net.js';

/** Starting takes a few seconds on an idle machine; a busy one may take much longer. */
export const PROMETHEUS_START_TIMEOUT_MS = 90_000;

const READY_TIMEOUT_MS = 60_000;

function onPath(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'].filter(Boolean);
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** Finds `prometheus`, installing Debian's package first when it is missing and this process may (root). */
export function prometheusBinary(): DebianExecutable {
  return debianPackage('prometheus', () => onPath('prometheus'));
}

export interface PrometheusServer {
  /** The server's base URL, as a `prometheus` probe takes it: `http://127.0.0.1:<port>`. */
  url: string;
  /** One instant query through the HTTP API (the test's own look, independent of the probe under test). */
  query(promql: string): Promise<PrometheusAnswer>;
  /** Polls `promql` until `accept` says yes, or fails after `timeoutMs` saying what the last answer was. */
  waitFor(promql: string, accept: (answer: PrometheusAnswer) => boolean, timeoutMs?: number): Promise<PrometheusAnswer>;
  /**
   * From now on every request needs this user and password (basic auth; Prometheus keeps only the password's bcrypt
   * hash); `undefined` turns it off again. The server's own `query` and `waitFor` send them.
   */
  requireBasicAuth(credentials: { user: string; password: string; bcryptHash: string } | undefined): void;
  /** The server's log so far (its tail), for a failing test's message. */
  logs(): string;
  stop(): Promise<void>;
}

export interface PrometheusAnswer {
  status: number;
  body: { status: string; data?: { resultType: string; result: unknown }; errorType?: string; error?: string };
}

export interface PrometheusOptions {
  binary: string;
  /** `host:port` of each metrics endpoint to scrape (job `app`). */
  targets: string[];
}

/** Starts Prometheus on a free port, and returns once it is ready and has scraped every target at least once. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  let lastError: unknown;
  // The free port is only free when it is picked; if someone else takes it before Prometheus binds it, try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(options, await freePort());
    } catch (error) {
      lastError = error;
      if (!(error instanceof EarlyExit)) throw error;
    }
  }
  throw lastError;
}

class EarlyExit extends Error {}

async function launch({ binary, targets }: PrometheusOptions, port: number): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'chaosduck-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  const webConfigFile = join(dir, 'web.yml');
  // scrape_timeout may not exceed scrape_interval, and its default (10 s) would.
  writeFileSync(
    configFile,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: app',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  writeFileSync(webConfigFile, '');
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.config.file=${webConfigFile}`,
    '--log.level=warn',
  ];
  const setpriv = onPath('setpriv');
  const child = setpriv ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const collect = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-8000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  let basicAuth: string | undefined;
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const query = async (promql: string): Promise<PrometheusAnswer> => {
    const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`, {
      headers: basicAuth ? { authorization: basicAuth } : {},
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json()) as PrometheusAnswer['body'] };
  };
  const waitFor: PrometheusServer['waitFor'] = async (promql, accept, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const answer = await query(promql);
        if (accept(answer)) return answer;
        last = answer.body;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) throw new Error(`Prometheus never answered ${promql} as the test waits for within ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${log.trim()}`);
      await sleep(200);
    }
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const state = await Promise.race([exited.then((how) => ({ exited: how })), ready(url).then((ok) => ({ ok }))]);
    if ('exited' in state) {
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
      throw new EarlyExit(`prometheus on port ${port} exited (${state.exited}) before it was ready:\n${log.trim()}`);
    }
    if (state.ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus on ${url} was not ready within ${READY_TIMEOUT_MS / 1000}s:\n${log.trim()}`);
    }
    await sleep(200);
  }
  const server: PrometheusServer = {
    url,
    query,
    waitFor,
    requireBasicAuth(credentials) {
      writeFileSync(webConfigFile, credentials ? `basic_auth_users:\n  ${credentials.user}: ${JSON.stringify(credentials.bcryptHash)}\n` : '');
      basicAuth = credentials ? `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}` : undefined;
    },
    logs: () => log,
    stop,
  };
  try {
    // Scraped at least once: every target is up.
    await waitFor('count(up{job="app"} == 1)', (a) => resultValue(a) === targets.length, READY_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  return server;
}

/** The single value of a scalar, or of a vector with one series; undefined otherwise. */
export function resultValue(answer: PrometheusAnswer): number | undefined {
  const data = answer.body.data;
  if (data?.resultType === 'scalar') return Number((data.result as [number, string])[1]);
  if (data?.resultType !== 'vector') return undefined;
  const result = data.result as { value: [number, string] }[];
  return result.length === 1 ? Number(result[0]?.value[1]) : undefined;
}

async function ready(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

export interface MetricsEndpoint {
  /** `host:port`, as a scrape target. */
  target: string;
  url: string;
  close(): Promise<void>;
}

/** Serves a prom-client registry on a free loopback port, on every path (a scrape target, and a server that is not Prometheus). */
export async function serveMetrics(registry: Registry): Promise<MetricsEndpoint> {
  const server = createHttpServer((_req, res) => {
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
