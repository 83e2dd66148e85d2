/** Runs the real `chaosduck` command in a child process, the way a user runs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../cli/bin.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  /** Everything printed so far. */
  output(): string;
  /** Resolves once stdout contains `text`. */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<CliResult>;
}

/**
 * `detached`: the command leads a process group of its own, as a shell's foreground job does, so a test can send a
 * signal to the whole group the way a terminal's Ctrl-C does (`process.kill(-child.pid, 'SIGINT')`).
 */
export function startCli(args: string[], options: { cwd: string; env?: Record<string, string>; detached?: boolean }): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const check of waiters) check();
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    output: () => stdout,
    done,
    waitForOutput(text, timeoutMs = 60_000) {
      const found = () => (typeof text === 'string' ? stdout.includes(text) : text.test(stdout));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${String(text)}; output so far:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        const check = () => {
          if (!found()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(stdout);
        };
        waiters.add(check);
        void done.then(() => {
          if (waiters.has(check)) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`chaosduck exited before printing ${String(text)}:\n${stdout}\n${stderr}`));
          }
        });
        check();
      });
    },
  };
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return startCli(args, options).done;
}
