/**
 * Project-local Python virtualenvs for the peers the tests and benchmarks run: moto server (`.venv`) and the real
 * Chaos Toolkit (`.venv-chaostoolkit`). Created on first use (`python -m venv`, `pip install` pinned versions); a
 * marker file records what was installed, so later runs skip straight to using it; a lock directory keeps processes
 * that start at once from installing twice.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A lock older than this was left by an install that died; it is taken over. */
const STALE_LOCK_MS = 10 * 60_000;
/** First use installs from PyPI: give the hook that needs it this long. */
export const VENV_SETUP_TIMEOUT_MS = 300_000;

export interface VenvSpec {
  /** Directory name under the repository root, e.g. `.venv`. */
  name: string;
  /** pip requirements, pinned. */
  packages: readonly string[];
  /** The interpreter that creates it (default `python3`, or `$PYTHON`). */
  python?: string;
}

export interface Venv {
  dir: string;
  bin: (command: string) => string;
}

export async function ensureVenv(spec: VenvSpec): Promise<Venv> {
  const dir = join(REPO_ROOT, spec.name);
  const marker = join(dir, '.chaosduck-packages');
  const wanted = spec.packages.join('\n');
  const venv = { dir, bin: (command: string) => join(dir, 'bin', command) };
  const installed = () => existsSync(marker) && readFileSync(marker, 'utf8').trim() === wanted;
  if (installed()) return venv;
  await withLock(join(REPO_ROOT, `${spec.name}.lock`), installed, async () => {
    if (installed()) return; // installed by whoever held the lock
    const python = spec.python ?? process.env.PYTHON ?? 'python3';
    if (!existsSync(venv.bin('python'))) await run(python, ['-m', 'venv', dir], `creating the virtualenv ${dir} with ${python}`);
    await run(
      venv.bin('python'),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', ...spec.packages],
      `installing ${spec.packages.join(' ')} into ${dir} (needs PyPI; delete ${spec.name} to start over)`,
    );
    writeFileSync(marker, `${wanted}\n`);
  });
  return venv;
}

/**
 * A Python of at least 3.`minor`: `$PYTHON` when it is one, else `python3.N` on PATH, else a pyenv version. Undefined
 * when the machine has none.
 */
export function findPython(minor: number): string | undefined {
  const version = (python: string) => {
    const out = spawnSync(python, ['-c', 'import sys; print(sys.version_info[1] if sys.version_info[0] == 3 else 0)'], { encoding: 'utf8' });
    return out.status === 0 ? Number(out.stdout.trim()) : -1;
  };
  const pyenv = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions');
  const candidates = [
    ...(process.env.PYTHON ? [process.env.PYTHON] : []),
    ...[14, 13, 12].filter((n) => n >= minor).map((n) => `python3.${n}`),
    ...(existsSync(pyenv) ? readdirSync(pyenv).filter((v) => /^3\.\d+/.test(v)).sort().reverse().map((v) => join(pyenv, v, 'bin', 'python3')) : []),
    'python3',
  ];
  return candidates.find((python) => version(python) >= minor);
}

async function withLock(lock: string, done: () => boolean, body: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + VENV_SETUP_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (done()) return;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for another process to finish installing (lock ${lock})`);
      else await sleep(500);
    }
  }
  try {
    await body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`${what} failed: cannot run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${command} exited with ${signal ?? `code ${code}`}):\n${output.trim()}`));
    });
  });
}

// ---- the peers -------------------------------------------------------------------------------------------------------

/** The Chaos Toolkit release the differential tests and the benchmark compare with (chaos-toolkit-format.md). */
export const CHAOSTOOLKIT_PACKAGES = ['chaostoolkit==1.21.4', 'chaostoolkit-lib[jsonpath]==1.45.1'] as const;

/** The `chaos` command in its own virtualenv (chaostoolkit 1.21 needs Python 3.12 or newer). */
export async function chaosToolkit(): Promise<string> {
  const python = findPython(12);
  if (!python) throw new Error('the real Chaos Toolkit needs Python 3.12 or newer, and none was found (set PYTHON to one)');
  const venv = await ensureVenv({ name: '.venv-chaostoolkit', packages: CHAOSTOOLKIT_PACKAGES, python });
  return venv.bin('chaos');
}
