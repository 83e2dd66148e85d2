/**
 * A REAL Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager and kube-scheduler, built
 * at pinned versions by scripts/build-kube-control-plane.sh (cached outside the repository) and started here on free
 * loopback ports. The API server makes its own serving certificate (which the clients verify), authenticates by
 * static tokens and authorizes by RBAC, with its default admission plugins (Pod Security among them).
 *
 * Identities: `admin` (system:masters) for arranging tests; the controller-manager and the scheduler as themselves;
 * and `chaosduck`, in the group `chaosduck` that deploy/kubernetes/rbac.yaml binds — what an EKS access entry makes
 * of the control plane's Lambda roles. Tests act as `chaosduck`, so every call the control plane makes meets RBAC.
 *
 * There is no kubelet and no container runtime: `startNodeStandIn` (node-stand-in.ts) plays the node's part.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { freePort } from './net.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_SCRIPT = join(REPO, 'scripts/build-kube-control-plane.sh');
const RBAC = join(REPO, 'deploy/kubernetes/rbac.yaml');

/** Building takes minutes on a cold cache (`.ci/run` builds first, so tests find the binaries ready). */
export const KUBE_BUILD_TIMEOUT_MS = 20 * 60_000;

export const CHAOSDUCK_USER = 'chaosduck-control-plane';

export interface KubeControlPlane {
  url: string;
  /** The API server's serving certificate chain (PEM), which clients verify. */
  caPem: string;
  /** Everything allowed: for arranging and inspecting a test. */
  admin(): KubeConfig;
  /** The control plane's identity, bound only by deploy/kubernetes/rbac.yaml. */
  chaosduck(): KubeConfig;
  /** A kubeconfig file for `chaosduck` (for the CLI), written into the control plane's own directory. */
  chaosduckKubeconfigFile(): string;
  /** One of the extra users asked for at start. */
  as(user: string): KubeConfig;
  /** The API server's log so far (for a failing test's message). */
  logs(): string;
  /**
   * Every request `chaosduck` has made since the last call, as the API server's audit log records it: what the
   * control plane really asked of a real cluster.
   */
  requests(): AuditedRequest[];
  stop(): Promise<void>;
}

/** The directory of the built binaries, building them first when they are missing. */
export function kubeBinaries(): string {
  const out = execFileSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: KUBE_BUILD_TIMEOUT_MS });
  return out.trim().split('\n').pop() as string;
}

const TOKENS = { admin: 'admin-token', controllerManager: 'controller-manager-token', scheduler: 'scheduler-token', chaosduck: 'chaosduck-token' };

function kubeConfigFor(url: string, caPem: string, user: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'real', server: url, caData: Buffer.from(caPem).toString('base64') }],
    users: [{ name: user, token }],
    contexts: [{ name: 'real', cluster: 'real', user }],
    currentContext: 'real',
  });
  return kc;
}

/** Polls `url` (HTTPS, certificate not checked: a readiness probe) until it answers 200. */
async function awaitHealthy(url: string, token: string | undefined, what: string, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const status = await httpsStatus(url, token);
      if (status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not become healthy within ${timeoutMs} ms:\n${logs().slice(-4000)}`);
    await sleep(100);
  }
}

async function httpsStatus(url: string, token: string | undefined): Promise<number> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export interface AuditedRequest {
  verb: string;
  /** Path and query, as sent. */
  uri: string;
  code: number;
  /** The request's body, for writes. */
  body?: Record<string, unknown>;
}

export interface KubeControlPlaneOptions {
  /** More token users, each in its groups (bound by nothing until a test binds them). */
  users?: { name: string; groups: string[] }[];
}

export async function startKubeControlPlane({ users = [] }: KubeControlPlaneOptions = {}): Promise<KubeControlPlane> {
  const bin = kubeBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'chaosduck-kube-'));
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const [etcdClient, etcdPeer, apiPort, cmPort, schedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);

  // Service-account tokens are signed with this key pair (the controller-manager mints them, the API server checks).
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(pki, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(pki, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  // The control plane's own requests, with their bodies; nothing else.
  writeFileSync(
    join(pki, 'audit-policy.yaml'),
    ['apiVersion: audit.k8s.io/v1', 'kind: Policy', 'omitStages: [RequestReceived]', 'rules:', `  - level: Request`, `    users: ["${CHAOSDUCK_USER}"]`, '  - level: None'].join('\n'),
  );
  const auditLog = join(dir, 'audit.log');
  writeFileSync(auditLog, '');
  let audited = 0;
  writeFileSync(
    join(pki, 'tokens.csv'),
    [
      `${TOKENS.admin},admin,admin,system:masters`,
      `${TOKENS.controllerManager},system:kube-controller-manager,controller-manager`,
      `${TOKENS.scheduler},system:kube-scheduler,scheduler`,
      `${TOKENS.chaosduck},${CHAOSDUCK_USER},chaosduck,chaosduck`,
      ...users.map((user) => `${user.name}-token,${user.name},${user.name},"${user.groups.join(',')}"`),
    ].join('\n'),
  );

  const processes: ChildProcess[] = [];
  const output = new Map<string, string[]>();
  const start = (name: string, args: string[]) => {
    const child = spawn(join(bin, name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    output.set(name, lines);
    const keep = (chunk: Buffer) => {
      lines.push(chunk.toString());
      if (lines.length > 400) lines.splice(0, lines.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    processes.push(child);
    return child;
  };
  const logsOf = (name: string) => () => (output.get(name) ?? []).join('');
  const stop = async () => {
    await Promise.all(
      processes.reverse().map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    start('etcd', [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    start('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${pki}`,
      `--token-auth-file=${join(pki, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // Endpoints may not hold a loopback address: the default service `kubernetes` gets none.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      `--audit-policy-file=${join(pki, 'audit-policy.yaml')}`,
      `--audit-log-path=${auditLog}`,
      // Written before the answer, so a test reads what it just did.
      '--audit-log-mode=blocking',
    ]);
    const url = `https://127.0.0.1:${apiPort}`;
    await awaitHealthy(`${url}/readyz`, TOKENS.admin, 'kube-apiserver', 60_000, () => `${logsOf('etcd')()}\n${logsOf('kube-apiserver')()}`);
    // The serving certificate the API server made for itself, with the CA that signed it.
    const caPem = readFileSync(join(pki, 'apiserver.crt'), 'utf8');

    const kubeconfigFile = (name: string, token: string) => {
      const file = join(dir, `${name}.kubeconfig`);
      writeFileSync(file, kubeConfigFor(url, caPem, name, token).exportConfig());
      return file;
    };
    start('kube-controller-manager', [
      `--kubeconfig=${kubeconfigFile('controller-manager', TOKENS.controllerManager)}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${cmPort}`,
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'apiserver.crt')}`,
      '--use-service-account-credentials',
      '--leader-elect=false',
    ]);
    start('kube-scheduler', [`--kubeconfig=${kubeconfigFile('scheduler', TOKENS.scheduler)}`, '--bind-address=127.0.0.1', `--secure-port=${schedPort}`, '--leader-elect=false']);
    await Promise.all([
      awaitHealthy(`https://127.0.0.1:${cmPort}/healthz`, undefined, 'kube-controller-manager', 60_000, logsOf('kube-controller-manager')),
      awaitHealthy(`https://127.0.0.1:${schedPort}/healthz`, undefined, 'kube-scheduler', 60_000, logsOf('kube-scheduler')),
    ]);

    const admin = () => kubeConfigFor(url, caPem, 'admin', TOKENS.admin);
    // The control plane's RBAC, exactly as a user applies it.
    const objects = KubernetesObjectApi.makeApiClient(admin());
    for (const document of parseAllDocuments(readFileSync(RBAC, 'utf8'))) {
      const object = document.toJS() as KubernetesObject | null;
      if (object) await objects.create(object);
    }
    return {
      url,
      caPem,
      admin,
      chaosduck: () => kubeConfigFor(url, caPem, CHAOSDUCK_USER, TOKENS.chaosduck),
      chaosduckKubeconfigFile: () => kubeconfigFile(CHAOSDUCK_USER, TOKENS.chaosduck),
      as: (user) => kubeConfigFor(url, caPem, user, `${user}-token`),
      logs: logsOf('kube-apiserver'),
      requests: () => {
        const lines = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean);
        const fresh = lines.slice(audited);
        audited = lines.length;
        return fresh.map((line) => {
          const event = JSON.parse(line) as { verb: string; requestURI: string; responseStatus?: { code?: number }; requestObject?: Record<string, unknown> };
          return { verb: event.verb, uri: event.requestURI, code: event.responseStatus?.code ?? 0, ...(event.requestObject ? { body: event.requestObject } : {}) };
        });
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
