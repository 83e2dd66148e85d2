/**
 * The same Chaos Toolkit file run by the real `chaos run` (chaostoolkit from PyPI, installed into a project-local
 * virtualenv by this benchmark) and by `chaosduck run`, side by side in one sitting: whole processes, as a user runs
 * them, several runs in alternating order. The file: an http probe as the steady-state hypothesis (checked before
 * and after), a process action, a declared rollback (a process), no pauses.
 *
 * Run: npm run bench:ctk   (about a minute; `-- --runs 9` for more runs)
 * Reports, for each: the median and the range of wall time and of peak resident memory (GNU time's "maximum
 * resident set size": the largest single process of the run, so dynalite's own process is not added to ours), and
 * the ratio chaosduck / chaos.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaosToolkit, CHAOSTOOLKIT_PACKAGES, REPO_ROOT } from '../test/support/python-venv.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const TIME = '/usr/bin/time';

interface Sample {
  wallSeconds: number;
  peakMb: number;
}

/** Runs a command under GNU time; its exit code must be 0 and its journal `completed`. */
function measure(command: string, args: string[], cwd: string, journal: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(TIME, ['-f', 'CHAOSDUCK_BENCH %e %M', command, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = /CHAOSDUCK_BENCH ([\d.]+) (\d+)/.exec(stderr);
      if (code !== 0 || !line) return reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
      const status = JSON.parse(readFileSync(join(cwd, journal), 'utf8')).status;
      if (status !== 'completed') return reject(new Error(`${command}: the journal says ${status}`));
      resolve({ wallSeconds: Number(line[1]), peakMb: Number(line[2]) / 1024 });
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const range = (values: number[], digits: number) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

async function main(): Promise<void> {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed to read each run's peak memory: apt-get install time`);
  const chaos = await chaosToolkit();
  const dir = mkdtempSync(join(tmpdir(), 'chaosduck-bench-ctk-'));
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
    writeFileSync(
      join(dir, 'experiment.json'),
      JSON.stringify({
        title: 'the service answers while a process action runs',
        description: 'http probe, process action, declared rollback, no pauses',
        'steady-state-hypothesis': { title: 'answers', probes: [{ type: 'probe', name: 'health', tolerance: 200, provider: { type: 'http', url, timeout: 5 } }] },
        method: [{ type: 'action', name: 'touch', provider: { type: 'process', path: 'touch', arguments: ['touched'] } }],
        rollbacks: [{ type: 'action', name: 'untouch', provider: { type: 'process', path: 'rm', arguments: ['-f', 'touched'] } }],
      }),
    );
    const node = process.execPath;
    const cli = join(REPO_ROOT, 'cli/bin.js');
    const runners = {
      chaos: () => measure(chaos, ['--no-version-check', 'run', 'experiment.json', '--journal-path', 'chaos.json', '--rollback-strategy', 'default'], dir, 'chaos.json'),
      chaosduck: () =>
        measure(node, [cli, 'run', 'experiment.json', '--journal-path', 'chaosduck.json', '--rollback-strategy', 'default', '--data-dir', join(dir, 'data')], dir, 'chaosduck.json'),
    };
    // One unmeasured run each: Python's bytecode cache, the data directory's first creation.
    await runners.chaos();
    await runners.chaosduck();
    const samples: Record<keyof typeof runners, Sample[]> = { chaos: [], chaosduck: [] };
    for (let i = 0; i < RUNS; i++) {
      const order: (keyof typeof runners)[] = i % 2 === 0 ? ['chaos', 'chaosduck'] : ['chaosduck', 'chaos'];
      for (const name of order) samples[name].push(await runners[name]());
    }
    const wall = (name: keyof typeof runners) => samples[name].map((s) => s.wallSeconds);
    const peak = (name: keyof typeof runners) => samples[name].map((s) => s.peakMb);
    console.log(`${RUNS} runs each, alternating; ${CHAOSTOOLKIT_PACKAGES.join(', ')}; node ${process.version}\n`);
    console.log('| runner | wall, median (range) | peak RSS, median (range) |');
    console.log('|---|---|---|');
    for (const name of ['chaos', 'chaosduck'] as const) {
      console.log(`| ${name} | ${median(wall(name)).toFixed(2)} s (${range(wall(name), 2)}) | ${median(peak(name)).toFixed(0)} MB (${range(peak(name), 0)}) |`);
    }
    console.log(
      `| chaosduck / chaos | ${(median(wall('chaosduck')) / median(wall('chaos'))).toFixed(1)}× | ${(median(peak('chaosduck')) / median(peak('chaos'))).toFixed(1)}× |`,
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
