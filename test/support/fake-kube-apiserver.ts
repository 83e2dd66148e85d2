/**
 * A FAKE Kubernetes API server for tests: real HTTP on 127.0.0.1, the URL layout, JSON shapes and status codes of the
 * real API for the few resources the kubernetes driver touches, so the real `@kubernetes/client-node` can talk to it.
 *
 *   core/v1   namespaces (list, get), pods (list with labelSelector + fieldSelector, get, create, delete with
 *             DeleteOptions `gracePeriodSeconds` / `preconditions.uid` in the body or `gracePeriodSeconds` in the query),
 *             services (list, get)
 *   apps/v1   deployments, replicasets, statefulsets (list, get)
 *   Lists work per namespace (`/namespaces/<ns>/<kind>`) and across all namespaces (`/<kind>`), as in the real API.
 *
 * A tiny controller loop stands in for the ReplicaSet/StatefulSet controllers and the kubelet: a deleted pod with a
 * controller owner is replaced after `recreateDelayMs` (ReplicaSet: a new name; StatefulSet: the same name, new uid),
 * Pending first, then Running and Ready after `readyDelayMs`; owners' `status.readyReplicas` follow the pods. A pod
 * created through the API (no owner) goes Pending → Running the same way. Deletion removes the pod at once (as if the
 * kubelet honoured the grace period instantly); the grace period asked for is recorded on the request.
 *
 * Every request is recorded (method, path, query, body) so tests can assert what the client sent.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface FakeKubeOptions {
  /** Delay before a controller replaces a deleted pod. */
  recreateDelayMs?: number;
  /** Delay from Pending to Running + Ready. */
  readyDelayMs?: number;
  /**
   * Checks each request's bearer token, as a real API server's authenticator does (EKS: the token is a presigned STS
   * GetCallerIdentity URL that the server calls). A false answer is 401 Unauthorized. Without it every request passes.
   */
  authenticate?: (bearerToken: string | undefined) => Promise<boolean>;
}

export interface FakeDeploymentOptions {
  namespace?: string;
  name: string;
  replicas?: number;
  labels: Record<string, string>;
  nodeName?: string;
}

/** Kubernetes serialises metav1.Time to whole seconds (RFC 3339). */
const now = () => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const suffix = () => Math.random().toString(36).slice(2, 7).padEnd(5, 'x');

function matchesLabels(labels: Record<string, string> = {}, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((term) => {
      const neq = term.match(/^([^!=]+)!=(.*)$/);
      if (neq) return labels[neq[1]!.trim()] !== neq[2]!.trim();
      const eq = term.match(/^([^!=]+)==?(.*)$/);
      if (eq) return labels[eq[1]!.trim()] === eq[2]!.trim();
      return term.startsWith('!') ? !(term.slice(1) in labels) : term in labels;
    });
}

const FIELDS: Record<string, (pod: Obj) => string | undefined> = {
  'status.phase': (p) => p.status?.phase,
  'metadata.name': (p) => p.metadata?.name,
  'metadata.namespace': (p) => p.metadata?.namespace,
  'spec.nodeName': (p) => p.spec?.nodeName,
  'spec.restartPolicy': (p) => p.spec?.restartPolicy,
  'spec.serviceAccountName': (p) => p.spec?.serviceAccountName,
  'status.podIP': (p) => p.status?.podIP,
};

/** Like the real server: an unknown field label is a 400. */
function fieldMatcher(selector: string | undefined): ((pod: Obj) => boolean) | string {
  if (!selector) return () => true;
  const terms: { field: string; value: string; negate: boolean }[] = [];
  for (const term of selector.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = term.match(/^([^!=]+)(!=|==|=)(.*)$/);
    if (!m || !FIELDS[m[1]!]) return `field label not supported: ${m?.[1] ?? term}`;
    terms.push({ field: m[1]!, value: m[3]!, negate: m[2] === '!=' });
  }
  return (pod) => terms.every((t) => (FIELDS[t.field]!(pod) === t.value) !== t.negate);
}

function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

export class FakeKubeApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly namespaces = new Set<string>(['default', 'kube-system']);
  /** `<kind>/<namespace>/<name>` → object. */
  private readonly objects = new Map<string, Obj>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private resourceVersion = 1;
  private url_ = '';

  private constructor(
    private readonly server: Server,
    readonly options: Required<Omit<FakeKubeOptions, 'authenticate'>> & Pick<FakeKubeOptions, 'authenticate'>,
  ) {}

  static async start(options: FakeKubeOptions = {}): Promise<FakeKubeApiServer> {
    let fake: FakeKubeApiServer | undefined;
    const server = createServer((req, res) => void fake!.handle(req, res));
    fake = new FakeKubeApiServer(server, {
      recreateDelayMs: options.recreateDelayMs ?? 50,
      readyDelayMs: options.readyDelayMs ?? 50,
      authenticate: options.authenticate,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.url_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  get url(): string {
    return this.url_;
  }

  /** A KubeConfig pointing the real client at this fake. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake-user', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', namespace: 'default' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests whose path starts with `prefix` (all by default), as `METHOD path?query`. */
  requestLines(prefix = '/'): string[] {
    return this.requests
      .filter((r) => r.path.startsWith(prefix))
      .map((r) => {
        const query = new URLSearchParams(r.query).toString();
        return `${r.method} ${r.path}${query ? `?${decodeURIComponent(query)}` : ''}`;
      });
  }

  // ---- seeding -----------------------------------------------------------------------------------------------------

  /** A Deployment with one ReplicaSet and `replicas` Running, Ready pods. */
  addDeployment({ namespace = 'default', name, replicas = 2, labels, nodeName = 'node-1' }: FakeDeploymentOptions): { deployment: Obj; replicaSet: Obj; pods: Obj[] } {
    this.namespaces.add(namespace);
    const hash = suffix();
    const deployment = this.put('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: this.meta(namespace, name, labels),
      spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(nodeName) } },
      status: { replicas, readyReplicas: replicas, availableReplicas: replicas },
    });
    const rsLabels = { ...labels, 'pod-template-hash': hash };
    const replicaSet = this.put('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { ...this.meta(namespace, `${name}-${hash}`, rsLabels), ownerReferences: [ownerRef(deployment)] },
      spec: { replicas, selector: { matchLabels: rsLabels }, template: { metadata: { labels: rsLabels }, spec: podSpec(nodeName) } },
      status: { replicas, readyReplicas: replicas },
    });
    const pods = Array.from({ length: replicas }, () => this.put('pods', this.runningPod(namespace, `${replicaSet.metadata.name}-${suffix()}`, rsLabels, replicaSet, nodeName)));
    return { deployment, replicaSet, pods };
  }

  /** A StatefulSet with `replicas` Running, Ready pods named `<name>-<ordinal>`. */
  addStatefulSet({ namespace = 'default', name, replicas = 2, labels, nodeName = 'node-1' }: FakeDeploymentOptions): { statefulSet: Obj; pods: Obj[] } {
    this.namespaces.add(namespace);
    const statefulSet = this.put('statefulsets', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: this.meta(namespace, name, labels),
      spec: { replicas, serviceName: name, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(nodeName) } },
      status: { replicas, readyReplicas: replicas, availableReplicas: replicas },
    });
    const pods = Array.from({ length: replicas }, (_, i) => this.put('pods', this.runningPod(namespace, `${name}-${i}`, labels, statefulSet, nodeName)));
    return { statefulSet, pods };
  }

  /** A bare pod with no controller (Running and Ready). */
  addPod({ namespace = 'default', name, labels, phase = 'Running', nodeName = 'node-1' }: { namespace?: string; name: string; labels: Record<string, string>; phase?: string; nodeName?: string }): Obj {
    this.namespaces.add(namespace);
    const pod = this.runningPod(namespace, name, labels, undefined, nodeName);
    if (phase !== 'Running') pod.status = { phase, conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now() }] };
    return this.put('pods', pod);
  }

  /** A ClusterIP Service selecting `selector`. */
  addService({ namespace = 'default', name, selector, port = 80, targetPort = 8080 }: { namespace?: string; name: string; selector: Record<string, string>; port?: number; targetPort?: number }): Obj {
    this.namespaces.add(namespace);
    return this.put('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: this.meta(namespace, name, {}),
      spec: { type: 'ClusterIP', clusterIP: `10.96.0.${this.objects.size % 250 + 2}`, selector: { ...selector }, ports: [{ protocol: 'TCP', port, targetPort }] },
      status: { loadBalancer: {} },
    });
  }

  pods(namespace = 'default'): Obj[] {
    return this.list('pods', namespace);
  }

  get(kind: string, namespace: string, name: string): Obj | undefined {
    return this.objects.get(`${kind}/${namespace}/${name}`);
  }

  // ---- objects -----------------------------------------------------------------------------------------------------

  private meta(namespace: string, name: string, labels: Record<string, string>): Obj {
    return { name, namespace, uid: randomUUID(), labels: { ...labels }, resourceVersion: String(this.resourceVersion++), creationTimestamp: now() };
  }

  private runningPod(namespace: string, name: string, labels: Record<string, string>, owner: Obj | undefined, nodeName: string): Obj {
    const t = now();
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...this.meta(namespace, name, labels), ...(owner ? { ownerReferences: [ownerRef(owner)] } : {}) },
      spec: podSpec(nodeName),
      status: {
        phase: 'Running',
        podIP: '10.0.0.1',
        startTime: t,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }],
      },
    };
  }

  private put(kind: string, obj: Obj): Obj {
    obj.metadata.resourceVersion = String(this.resourceVersion++);
    this.objects.set(`${kind}/${obj.metadata.namespace}/${obj.metadata.name}`, obj);
    return obj;
  }

  /** Objects of `kind` in `namespace`, or in every namespace when it is undefined. */
  private list(kind: string, namespace: string | undefined): Obj[] {
    const prefix = namespace === undefined ? `${kind}/` : `${kind}/${namespace}/`;
    return [...this.objects.entries()].filter(([key]) => key.startsWith(prefix)).map(([, obj]) => obj);
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  // ---- controller loop ---------------------------------------------------------------------------------------------

  private refreshOwners(namespace: string): void {
    const pods = this.pods(namespace);
    const readyOf = (uid: string) =>
      pods.filter((p) => p.metadata.ownerReferences?.some((o: Obj) => o.uid === uid) && !p.metadata.deletionTimestamp && isReady(p)).length;
    for (const rs of this.list('replicasets', namespace)) {
      rs.status.readyReplicas = readyOf(rs.metadata.uid);
      const owner = rs.metadata.ownerReferences?.find((o: Obj) => o.controller);
      const deployment = owner && this.get('deployments', namespace, owner.name);
      if (deployment) {
        deployment.status.readyReplicas = this.list('replicasets', namespace)
          .filter((r) => r.metadata.ownerReferences?.some((o: Obj) => o.uid === deployment.metadata.uid))
          .reduce((n, r) => n + (r.status.readyReplicas ?? 0), 0);
        deployment.status.availableReplicas = deployment.status.readyReplicas;
      }
    }
    for (const sts of this.list('statefulsets', namespace)) sts.status.readyReplicas = sts.status.availableReplicas = readyOf(sts.metadata.uid);
  }

  private onPodDeleted(pod: Obj): void {
    const namespace = pod.metadata.namespace as string;
    this.refreshOwners(namespace);
    const ref = pod.metadata.ownerReferences?.find((o: Obj) => o.controller);
    if (!ref) return;
    const kind = ref.kind === 'ReplicaSet' ? 'replicasets' : ref.kind === 'StatefulSet' ? 'statefulsets' : undefined;
    const owner = kind && this.get(kind, namespace, ref.name);
    if (!owner) return;
    this.later(this.options.recreateDelayMs, () => {
      const name = ref.kind === 'StatefulSet' ? pod.metadata.name : `${owner.metadata.name}-${suffix()}`;
      const replacement = this.runningPod(namespace, name, owner.spec.template.metadata.labels, owner, pod.spec.nodeName);
      this.startPending(replacement);
    });
  }

  /** Stores the pod Pending and not ready, then makes it Running and Ready after `readyDelayMs`. */
  private startPending(pod: Obj): void {
    pod.status = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now() }] };
    this.put('pods', pod);
    this.refreshOwners(pod.metadata.namespace);
    this.later(this.options.readyDelayMs, () => {
      const current = this.get('pods', pod.metadata.namespace, pod.metadata.name);
      if (!current || current.metadata.uid !== pod.metadata.uid) return;
      const t = now();
      current.spec.nodeName ??= 'node-1';
      current.status = { phase: 'Running', podIP: '10.0.0.2', startTime: t, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }] };
      this.put('pods', current);
      this.refreshOwners(pod.metadata.namespace);
    });
  }

  // ---- HTTP --------------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query, body });
    const send = (code: number, payload: Obj) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    try {
      const authenticate = this.options.authenticate;
      const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
      if (authenticate && !(await authenticate(bearer))) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
      const [code, payload] = this.route(method, url.pathname, query, body as Obj | undefined);
      send(code, payload);
    } catch (error) {
      send(500, status(500, 'InternalError', String(error)));
    }
  }

  private route(method: string, path: string, query: Record<string, string>, body: Obj | undefined): [number, Obj] {
    const ns = path.match(/^\/api\/v1\/namespaces\/([^/]+)$/);
    if (ns && method === 'GET') {
      const name = ns[1]!;
      if (!this.namespaces.has(name)) return [404, status(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' })];
      return [200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } }];
    }
    if (path === '/api/v1/namespaces' && method === 'GET') {
      const items = [...this.namespaces]
        .sort()
        .map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }))
        .filter((n) => matchesLabels(n.metadata.labels, query.labelSelector));
      return [200, { apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion: String(this.resourceVersion) }, items }];
    }
    // A list across all namespaces: /api/v1/pods, /apis/apps/v1/deployments, …
    const all = path.match(/^\/(?:api\/v1|apis\/apps\/v1)\/(pods|services|deployments|replicasets|statefulsets)$/);
    const m = all ? [path, undefined, all[1], undefined] : path.match(/^\/(?:api\/v1|apis\/apps\/v1)\/namespaces\/([^/]+)\/(pods|services|deployments|replicasets|statefulsets)(?:\/([^/]+))?$/);
    if (!m) return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    const [, namespace, kind, name] = m as unknown as [string, string | undefined, string, string | undefined];
    const core = kind === 'pods' || kind === 'services';
    const apiVersion = core ? 'v1' : 'apps/v1';
    if (!path.startsWith(core ? '/api/v1/' : '/apis/apps/v1/')) return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    const notFound = (n: string): [number, Obj] => [404, status(404, 'NotFound', `${kind} "${n}" not found`, { name: n, kind })];

    if (!name && method === 'GET') {
      const fields = fieldMatcher(query.fieldSelector);
      if (typeof fields === 'string') return [400, status(400, 'BadRequest', fields)];
      const items = this.list(kind, namespace).filter((o) => matchesLabels(o.metadata.labels, query.labelSelector) && fields(o));
      const listKind = `${KINDS[kind]}List`;
      return [200, { apiVersion, kind: listKind, metadata: { resourceVersion: String(this.resourceVersion) }, items }];
    }
    if (namespace === undefined) return [405, status(405, 'MethodNotAllowed', `${method} is not supported on ${path}`)];
    if (!name && method === 'POST' && kind === 'pods') {
      const podName = body?.metadata?.name as string | undefined;
      if (!podName) return [422, status(422, 'Invalid', 'Pod "" is invalid: metadata.name: Required value')];
      if (!this.namespaces.has(namespace)) return [404, status(404, 'NotFound', `namespaces "${namespace}" not found`)];
      if (this.get('pods', namespace, podName)) return [409, status(409, 'AlreadyExists', `pods "${podName}" already exists`, { name: podName, kind })];
      const pod: Obj = {
        apiVersion: 'v1',
        kind: 'Pod',
        ...body,
        metadata: { ...body!.metadata, namespace, uid: randomUUID(), creationTimestamp: now() },
        spec: { ...body!.spec },
      };
      delete pod.metadata.resourceVersion;
      this.startPending(pod);
      return [201, pod];
    }
    if (name && method === 'GET') {
      const obj = this.get(kind, namespace, name);
      return obj ? [200, obj] : notFound(name);
    }
    if (name && method === 'DELETE' && kind === 'pods') {
      const pod = this.get('pods', namespace, name);
      if (!pod) return notFound(name);
      const uid = body?.preconditions?.uid as string | undefined;
      if (uid && uid !== pod.metadata.uid) {
        return [
          409,
          status(409, 'Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`, { name, kind }),
        ];
      }
      this.objects.delete(`pods/${namespace}/${name}`);
      const grace = body?.gracePeriodSeconds ?? (query.gracePeriodSeconds !== undefined ? Number(query.gracePeriodSeconds) : 30);
      const deleted = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: now(), deletionGracePeriodSeconds: grace } };
      this.onPodDeleted(pod);
      return [200, deleted];
    }
    return [405, status(405, 'MethodNotAllowed', `${method} is not supported on ${path} by this fake`)];
  }
}

const KINDS: Record<string, string> = { pods: 'Pod', services: 'Service', deployments: 'Deployment', replicasets: 'ReplicaSet', statefulsets: 'StatefulSet' };

function podSpec(nodeName: string): Obj {
  return { nodeName, restartPolicy: 'Always', containers: [{ name: 'app', image: 'nginx:1.27' }] };
}

function ownerRef(owner: Obj): Obj {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function isReady(pod: Obj): boolean {
  return pod.status?.phase === 'Running' && pod.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True');
}
