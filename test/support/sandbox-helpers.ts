/** Helpers for the sandbox integration tests: plain HTTP with timings, and process facts read from /proc. */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { REPLICA_HEADER } from '../../local/sandbox/proxy.js';

export interface TimedResponse {
  status: number;
  /** The replica that answered, from the proxy's header (or the body when the replica is asked directly). */
  replica: string | undefined;
  body: string;
  ms: number;
}

/** One GET on a fresh connection (no pooling, no retries), so every request meets the proxy's rules on its own. */
export function timedGet(url: string, timeoutMs = 10_000): Promise<TimedResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const header = res.headers[REPLICA_HEADER];
        resolve({
          status: res.statusCode ?? 0,
          replica: typeof header === 'string' ? header : undefined,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Resident memory of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** CPU time (user + system) a process has used, in ms. */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat (the slice starts at field 3), in USER_HZ ticks: 1/100 s on Linux.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}
