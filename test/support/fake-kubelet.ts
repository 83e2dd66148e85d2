/**
 * The FAKE kubelet behind the fake API server: it "runs" a container by running its command as a local process, the
 * way a node would run it in the pod's namespaces. Each pod gets a directory that stands in for its network namespace
 * and cgroup, and the fake node's PATH carries two FAKE tools that keep their state there:
 *
 *   tc         `tc qdisc show|add|del dev <if> root …` on the pod's interfaces (eth0, lo); one root qdisc per
 *              interface, `add` refuses when one is already set (as the real one does without `replace`)
 *   stress-ng  records its arguments in the pod directory while it "runs" until its --timeout or SIGTERM
 *
 * Nothing the control plane does may rely on these being fakes: it only sees what a real API server reports (container
 * states, exit codes, logs, exec output). Tests look inside through `qdisc()` and `stressors()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const FAKE_TC = `#!/bin/sh
# FAKE tc (test/support/fake-kubelet.ts): the pod's root qdiscs live in $FAKE_KUBE_POD_DIR/qdisc-<dev>.
[ "$1" = qdisc ] || { echo "fake tc: only 'tc qdisc' is supported" >&2; exit 1; }
op=$2; shift 2
[ "$1" = dev ] || { echo "fake tc: expected dev" >&2; exit 1; }
dev=$2; shift 2
case "$dev" in eth0|lo) ;; *) echo "Cannot find device \\"$dev\\"" >&2; exit 1 ;; esac
f="$FAKE_KUBE_POD_DIR/qdisc-$dev"
case "$op" in
  show) if [ -f "$f" ]; then cat "$f"; else echo "qdisc noqueue 0: root refcnt 2"; fi ;;
  add)
    [ "$1" = root ] || { echo "fake tc: only root qdiscs" >&2; exit 1; }
    shift
    if [ -f "$f" ]; then echo "Error: Exclusivity flag on, cannot modify." >&2; exit 2; fi
    handle="8001:"
    if [ "$1" = handle ]; then handle=$2; shift 2; fi
    kind=$1; shift
    echo "qdisc $kind $handle root refcnt 2 limit 1000 $*" > "$f" ;;
  del)
    if [ ! -f "$f" ]; then echo "Error: Cannot delete qdisc with handle of zero." >&2; exit 2; fi
    rm -f "$f" ;;
  *) echo "fake tc: unsupported qdisc $op" >&2; exit 1 ;;
esac
`;

const FAKE_STRESS_NG = `#!/bin/sh
# FAKE stress-ng (test/support/fake-kubelet.ts): "runs" until --timeout or SIGTERM, its arguments recorded meanwhile.
f="$FAKE_KUBE_POD_DIR/stress-ng.$$"
echo "$*" > "$f"
timeout=86400
while [ $# -gt 0 ]; do
  if [ "$1" = --timeout ]; then timeout=\${2%s}; fi
  shift
done
trap 'rm -f "$f"; exit 0' TERM INT
sleep "$timeout" &
wait $!
rm -f "$f"
`;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

interface Running {
  child: ChildProcess;
  log: string[];
}

export class FakeKubelet {
  private readonly root = mkdtempSync(join(tmpdir(), 'fake-kubelet-'));
  private readonly bin = join(this.root, 'bin');
  private readonly processes = new Map<string, Running>();
  /** Logs outlive their process, as the kubelet keeps a terminated container's log. */
  private readonly logs = new Map<string, string[]>();

  constructor() {
    mkdirSync(this.bin);
    for (const [name, script] of [['tc', FAKE_TC], ['stress-ng', FAKE_STRESS_NG]] as const) {
      writeFileSync(join(this.bin, name), script);
      chmodSync(join(this.bin, name), 0o755);
    }
  }

  private podDir(uid: string): string {
    const dir = join(this.root, 'pods', uid);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private env(pod: Obj, container: Obj): NodeJS.ProcessEnv {
    const own = Object.fromEntries(((container.env ?? []) as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? '']));
    return { PATH: `${this.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, FAKE_KUBE_POD_DIR: this.podDir(pod.metadata.uid), HOSTNAME: pod.metadata.name, ...own };
  }

  /** Starts the container's command; `onState` gets `running`, then `terminated` with the exit code. */
  run(pod: Obj, container: Obj, onState: (state: Obj) => void): void {
    const key = `${pod.metadata.uid}/${container.name}`;
    const argv = [...(container.command ?? []), ...(container.args ?? [])] as string[];
    const log: string[] = [];
    this.logs.set(key, log);
    // Its own process group: the container's processes, all ended together when its main process ends (a real
    // container's PID namespace goes down with its PID 1).
    const child = spawn(argv[0]!, argv.slice(1), { env: this.env(pod, container), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const startedAt = new Date().toISOString();
    this.processes.set(key, { child, log });
    child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    child.on('spawn', () => onState({ running: { startedAt } }));
    child.on('exit', () => killGroup(child, 'SIGKILL'));
    child.on('close', (code, signal) => {
      this.processes.delete(key);
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      onState({ terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: new Date().toISOString() } });
    });
    child.on('error', (error) => log.push(`fake kubelet: cannot start ${argv[0]}: ${error.message}\n`));
  }

  isRunning(pod: Obj, container: string): boolean {
    return this.processes.has(`${pod.metadata.uid}/${container}`);
  }

  log(pod: Obj, container: string): string | undefined {
    return this.logs.get(`${pod.metadata.uid}/${container}`)?.join('');
  }

  /** Runs `command` "inside" a running container: same environment and pod directory. */
  exec(pod: Obj, container: Obj, command: string[]): ChildProcess {
    return spawn(command[0]!, command.slice(1), { env: this.env(pod, container), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The pod is going: its containers get SIGTERM (the grace period is not waited for). */
  stopPod(pod: Obj): void {
    for (const [key, running] of this.processes) if (key.startsWith(`${pod.metadata.uid}/`)) running.child.kill('SIGTERM');
  }

  /** The root qdisc on `dev` in the pod's network namespace, as `tc qdisc show` prints it; undefined when default. */
  qdisc(pod: Obj, dev = 'eth0'): string | undefined {
    try {
      return readFileSync(join(this.root, 'pods', pod.metadata.uid, `qdisc-${dev}`), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** The arguments of every stress-ng running in the pod. */
  stressors(pod: Obj): string[] {
    try {
      const dir = join(this.root, 'pods', pod.metadata.uid);
      return readdirSync(dir)
        .filter((f) => f.startsWith('stress-ng.'))
        .map((f) => readFileSync(join(dir, f), 'utf8').trim());
    } catch {
      return [];
    }
  }

  async dispose(): Promise<void> {
    const exits = [...this.processes.values()].map(({ child }) => new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      killGroup(child, 'SIGKILL');
    }));
    await Promise.all(exits);
    rmSync(this.root, { recursive: true, force: true });
  }
}
