/**
 * The same Chaos Toolkit files checked and run by the real `chaos` (chaostoolkit from PyPI, installed into a
 * project-local virtualenv by this benchmark) and by `chaosduck`, side by side in one sitting: whole processes, as a
 * user runs them, several runs in alternating order.
 *
 *   validate       `chaos validate` / `chaosduck validate` of the http-probe file below
 *   run, process   the smallest experiment: a process probe as the steady-state hypothesis (checked before and
 *                  after), a process action, a declared rollback (a process), no pauses
 *   run, http      the same with an http probe against a local server
 *
 * Run: npm run bench:ctk   (about a minute; `-- --runs 9` for more runs)
 * Reports, for each: the median and the range of wall time and of peak resident memory (GNU time's "maximum
 * resident set size": the largest single process of the run), and the ratios chaosduck / chaos.
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

const RUNNERS = ['chaos', 'chaosduck'] as const;
type Runner = (typeof RUNNERS)[number];

interface Sample {
  wallSeconds: number;
  peakMb: number;
}

/** Runs a command under GNU time; its exit code must be 0 and its journal (if it writes one) `completed`. */
function measure(command: string, args: string[], cwd: string, journal?: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(TIME, ['-f', 'CHAOSDUCK_BENCH %e %M', command, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = /CHAOSDUCK_BENCH ([\d.]+) (\d+)/.exec(stderr);
      if (code !== 0 || !line) return reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
      const status = journal === undefined ? 'completed' : JSON.parse(readFileSync(join(cwd, journal), 'utf8')).status;
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
    const experiment = (probe: Record<string, unknown>) => ({
      title: 'the service answers while a process action runs',
      description: 'a probe, a process action, a declared rollback, no pauses',
      'steady-state-hypothesis': { title: 'answers', probes: [{ type: 'probe', name: 'health', ...probe }] },
      method: [{ type: 'action', name: 'touch', provider: { type: 'process', path: 'touch', arguments: ['touched'] } }],
      rollbacks: [{ type: 'action', name: 'untouch', provider: { type: 'process', path: 'rm', arguments: ['-f', 'touched'] } }],
    });
    writeFileSync(join(dir, 'http.json'), JSON.stringify(experiment({ tolerance: 200, provider: { type: 'http', url, timeout: 5 } })));
    writeFileSync(join(dir, 'process.json'), JSON.stringify(experiment({ tolerance: 0, provider: { type: 'process', path: 'true' } })));
    const node = process.execPath;
    const cli = join(REPO_ROOT, 'cli/bin.js');
    const chaosRun = (file: string) => () =>
      measure(chaos, ['--no-version-check', 'run', file, '--journal-path', 'chaos.json', '--rollback-strategy', 'default'], dir, 'chaos.json');
    const chaosduckRun = (file: string) => () =>
      measure(node, [cli, 'run', file, '--journal-path', 'chaosduck.json', '--rollback-strategy', 'default', '--data-dir', join(dir, 'data')], dir, 'chaosduck.json');
    const cases: Record<string, Record<Runner, () => Promise<Sample>>> = {
      validate: {
        chaos: () => measure(chaos, ['--no-version-check', 'validate', 'http.json'], dir),
        chaosduck: () => measure(node, [cli, 'validate', 'http.json'], dir),
      },
      'run, process probe': { chaos: chaosRun('process.json'), chaosduck: chaosduckRun('process.json') },
      'run, http probe': { chaos: chaosRun('http.json'), chaosduck: chaosduckRun('http.json') },
    };
    console.log(`${RUNS} runs each, alternating; ${CHAOSTOOLKIT_PACKAGES.join(', ')}; node ${process.version}\n`);
    console.log('| case | runner | wall, median (range) | peak RSS, median (range) |');
    console.log('|---|---|---|---|');
    for (const [name, runners] of Object.entries(cases)) {
      // One unmeasured run each: Python's bytecode cache, the data directory's first creation.
      await runners.chaos();
      await runners.chaosduck();
      const samples: Record<Runner, Sample[]> = { chaos: [], chaosduck: [] };
      for (let i = 0; i < RUNS; i++) {
        const order: Runner[] = i % 2 === 0 ? ['chaos', 'chaosduck'] : ['chaosduck', 'chaos'];
        for (const runner of order) samples[runner].push(await runners[runner]());
      }
      const wall = (runner: Runner) => samples[runner].map((s) => s.wallSeconds);
      const peak = (runner: Runner) => samples[runner].map((s) => s.peakMb);
      for (const runner of RUNNERS) {
        console.log(`| ${name} | ${runner} | ${median(wall(runner)).toFixed(2)} s (${range(wall(runner), 2)}) | ${median(peak(runner)).toFixed(0)} MB (${range(peak(runner), 0)}) |`);
      }
      console.log(
        `| ${name} | chaosduck / chaos | ${(median(wall('chaosduck')) / median(wall('chaos'))).toFixed(2)}× | ${(median(peak('chaosduck')) / median(peak('chaos'))).toFixed(2)}× |`,
      );
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
