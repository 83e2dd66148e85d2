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
 * Pods can take ephemeral containers (`pods/<name>/ephemeralcontainers`: GET and PUT with `dryRun=All`, optimistic on
 * resourceVersion, existing ones immutable, Pod Security admission from the namespace's
 * `pod-security.kubernetes.io/enforce` label for capabilities and runAsNonRoot), which the FAKE kubelet
 * (fake-kubelet.ts) runs as local processes, reporting their states in `status.ephemeralContainerStatuses`; their
 * output is served by `pods/<name>/log?container=` and commands run in them through `pods/<name>/exec` over a
 * WebSocket speaking the `v4.channel.k8s.io` protocol, as `kubectl exec` and the client's `Exec` use it.
 *
 * Every request is recorded (method, path, query, body) so tests can assert what the client sent; exec calls also
 * land in `execs`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeKubelet } from './fake-kubelet.js';

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
/**
 * Generated name suffixes, from Kubernetes's own alphabet (no vowels) less `l` and `p`, so that no generated name can
 * spell a word of the default production rule (`prod`, `prd`, `live`) and trip the guard at random.
 */
const SUFFIX_ALPHABET = 'bcdfghjkmnqrstvwxz2456789';
const suffix = () => Array.from({ length: 5 }, () => SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)]).join('');

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

/** Capabilities the Pod Security "baseline" level allows to be added (the "restricted" level: NET_BIND_SERVICE only). */
const BASELINE_CAPABILITIES = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];

export interface RecordedExec {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

export class FakeKubeApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly execs: RecordedExec[] = [];
  readonly namespaces = new Set<string>(['default', 'kube-system']);
  readonly kubelet = new FakeKubelet();
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly unpullable = new Set<string>();
  private readonly interceptors: { method: string; path: string; run: () => void }[] = [];
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
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
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void fake!.upgrade(req, socket, head));
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
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    await this.kubelet.dispose();
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
  addPod({
    namespace = 'default',
    name,
    labels,
    phase = 'Running',
    nodeName = 'node-1',
    hostNetwork = false,
    containers,
  }: { namespace?: string; name: string; labels: Record<string, string>; phase?: string; nodeName?: string; hostNetwork?: boolean; containers?: string[] }): Obj {
    this.namespaces.add(namespace);
    const pod = this.runningPod(namespace, name, labels, undefined, nodeName);
    if (hostNetwork) pod.spec.hostNetwork = true;
    if (containers) pod.spec.containers = containers.map((c) => ({ name: c, image: 'nginx:1.27' }));
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

  /** Labels on a namespace, e.g. `pod-security.kubernetes.io/enforce: baseline`. */
  labelNamespace(namespace: string, labels: Record<string, string>): void {
    this.namespaces.add(namespace);
    this.namespaceLabels.set(namespace, { ...this.namespaceLabels.get(namespace), ...labels });
  }

  /** Pulling `image` fails (ErrImagePull, then ImagePullBackOff), as for a missing image or registry. */
  failImagePull(image: string): void {
    this.unpullable.add(image);
  }

  /** Runs `run` just before the next `method path` request is handled: another client's write racing ours. */
  beforeNext(method: string, path: string, run: () => void): void {
    this.interceptors.push({ method, path, run });
  }

  /** Adds an ephemeral container as another client would (`kubectl debug`), bumping the pod's resourceVersion. */
  addEphemeralContainer(namespace: string, pod: string, container: Obj): void {
    const current = this.get('pods', namespace, pod)!;
    const [code, result] = this.putEphemeralContainers(current, {}, { ...current, spec: { ...current.spec, ephemeralContainers: [...(current.spec.ephemeralContainers ?? []), container] } });
    if (code !== 200) throw new Error(`fake: cannot add ephemeral container: ${JSON.stringify(result)}`);
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

  // ---- ephemeral containers, logs, exec -----------------------------------------------------------------------------

  private nsLabels(name: string): Record<string, string> {
    return { 'kubernetes.io/metadata.name': name, ...this.namespaceLabels.get(name) };
  }

  private podSubresource(method: string, namespace: string, name: string, subresource: string, query: Record<string, string>, body: Obj | undefined): [number, Obj | string] {
    const pod = this.get('pods', namespace, name);
    if (!pod) return [404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' })];
    if (subresource === 'ephemeralcontainers' && method === 'GET') return [200, pod];
    if (subresource === 'ephemeralcontainers' && method === 'PUT') return this.putEphemeralContainers(pod, query, body);
    if (subresource === 'log' && method === 'GET') {
      const container = query.container ?? (pod.spec.containers.length === 1 ? pod.spec.containers[0].name : undefined);
      if (!container) return [400, status(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${pod.spec.containers.map((c: Obj) => c.name).join(' ')}]`)];
      const log = this.kubelet.log(pod, container);
      if (log === undefined) {
        const waiting = pod.status.ephemeralContainerStatuses?.find((c: Obj) => c.name === container)?.state?.waiting;
        return [400, status(400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ${waiting?.reason ?? 'ContainerCreating'}`)];
      }
      const lines = log.split('\n');
      if (lines.at(-1) === '') lines.pop();
      const tail = query.tailLines === undefined ? lines : lines.slice(-Number(query.tailLines));
      return [200, tail.map((l) => `${l}\n`).join('')];
    }
    if (subresource === 'exec') return [400, status(400, 'BadRequest', 'Upgrade request required')];
    return [405, status(405, 'MethodNotAllowed', `${method} is not supported on pods/${subresource} by this fake`)];
  }

  private putEphemeralContainers(pod: Obj, query: Record<string, string>, body: Obj | undefined): [number, Obj] {
    const name = pod.metadata.name as string;
    const namespace = pod.metadata.namespace as string;
    const invalid = (message: string): [number, Obj] => [422, status(422, 'Invalid', `Pod "${name}" is invalid: ${message}`, { name, kind: 'Pod' })];
    if (body?.kind !== 'Pod') return [400, status(400, 'BadRequest', 'the body must be a Pod')];
    if (body.metadata?.uid && body.metadata.uid !== pod.metadata.uid) {
      return [409, status(409, 'Conflict', `Precondition failed: UID in precondition: ${body.metadata.uid}, UID in object meta: ${pod.metadata.uid}`, { name, kind: 'pods' })];
    }
    if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== pod.metadata.resourceVersion) {
      return [409, status(409, 'Conflict', `Operation cannot be fulfilled on pods "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: 'pods' })];
    }
    const existing = (pod.spec.ephemeralContainers ?? []) as Obj[];
    const wanted = (body.spec?.ephemeralContainers ?? []) as Obj[];
    for (const [i, c] of existing.entries()) {
      if (!isDeepStrictEqual(wanted[i], c)) return invalid(`spec.ephemeralContainers: Forbidden: existing ephemeral containers "${c.name}" may not be removed or changed`);
    }
    const added = wanted.slice(existing.length);
    const taken = new Set([...pod.spec.containers.map((c: Obj) => c.name), ...existing.map((c) => c.name)]);
    for (const [i, c] of added.entries()) {
      const field = `spec.ephemeralContainers[${existing.length + i}]`;
      if (!c.name) return invalid(`${field}.name: Required value`);
      if (taken.has(c.name)) return invalid(`${field}.name: Duplicate value: "${c.name}"`);
      if (!c.image) return invalid(`${field}.image: Required value`);
      if (c.targetContainerName && !pod.spec.containers.some((t: Obj) => t.name === c.targetContainerName)) {
        return invalid(`${field}.targetContainerName: Not found: "${c.targetContainerName}"`);
      }
      taken.add(c.name);
      const refusal = this.podSecurity(namespace, c);
      if (refusal) return [403, status(403, 'Forbidden', `pods "${name}" is forbidden: ${refusal}`, { name, kind: 'pods' })];
    }
    if (query.dryRun === 'All') return [200, { ...pod, spec: { ...pod.spec, ephemeralContainers: wanted } }];
    pod.spec.ephemeralContainers = wanted;
    pod.status.ephemeralContainerStatuses = [
      ...(pod.status.ephemeralContainerStatuses ?? []),
      ...added.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })),
    ];
    this.put('pods', pod);
    for (const c of added) this.later(5, () => this.startEphemeral(pod, c));
    return [200, pod];
  }

  /** The Pod Security admission verdict for one container, as the namespace's enforce label asks; undefined: allowed. */
  private podSecurity(namespace: string, c: Obj): string | undefined {
    const level = this.namespaceLabels.get(namespace)?.['pod-security.kubernetes.io/enforce'];
    if (level !== 'baseline' && level !== 'restricted') return undefined;
    const allowed = level === 'restricted' ? ['NET_BIND_SERVICE'] : BASELINE_CAPABILITIES;
    const extra = ((c.securityContext?.capabilities?.add ?? []) as string[]).filter((cap) => !allowed.includes(cap));
    if (extra.length) return `violates PodSecurity "${level}:latest": non-default capabilities (container "${c.name}" must not include ${extra.map((x) => `"${x}"`).join(', ')} in securityContext.capabilities.add)`;
    if (level === 'restricted' && c.securityContext?.runAsNonRoot !== true) {
      return `violates PodSecurity "restricted:latest": runAsNonRoot != true (container "${c.name}" must set securityContext.runAsNonRoot=true)`;
    }
    return undefined;
  }

  private setEphemeralState(pod: Obj, container: string, state: Obj): void {
    const current = this.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (!current || current.metadata.uid !== pod.metadata.uid) return;
    const entry = current.status.ephemeralContainerStatuses?.find((c: Obj) => c.name === container);
    if (!entry) return;
    entry.state = state;
    this.put('pods', current);
  }

  private startEphemeral(pod: Obj, c: Obj): void {
    if (this.unpullable.has(c.image)) {
      this.setEphemeralState(pod, c.name, { waiting: { reason: 'ErrImagePull', message: `failed to pull and unpack image "${c.image}": not found` } });
      this.later(this.options.readyDelayMs, () => this.setEphemeralState(pod, c.name, { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` } }));
      return;
    }
    this.kubelet.run(pod, c, (state) => this.setEphemeralState(pod, c.name, state));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const refuse = (code: number, payload: Obj) => {
      socket.end(`HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : 'Bad Request'}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify(payload)}`);
    };
    const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body: undefined });
    const authenticate = this.options.authenticate;
    if (authenticate && !(await authenticate(req.headers.authorization?.match(/^Bearer (.+)$/)?.[1]))) return refuse(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (!m) return refuse(400, status(400, 'BadRequest', `no exec endpoint at ${url.pathname}`));
    const [, namespace, name] = m as unknown as [string, string, string];
    const pod = this.get('pods', namespace, name);
    const containerName = url.searchParams.get('container') ?? '';
    const command = url.searchParams.getAll('command');
    const container = [...(pod?.spec.containers ?? []), ...(pod?.spec.ephemeralContainers ?? [])].find((c: Obj) => c.name === containerName);
    if (!pod || !container) return refuse(400, status(400, 'BadRequest', `container ${containerName} is not valid for pod ${name}`));
    if (!this.kubelet.isRunning(pod, containerName)) return refuse(400, status(400, 'BadRequest', `unable to upgrade connection: container not found ("${containerName}")`));
    if (command.length === 0) return refuse(400, status(400, 'BadRequest', 'you must specify at least 1 command'));
    this.execs.push({ namespace, pod: name, container: containerName, command });
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const child = this.kubelet.exec(pod, container, command);
      const frame = (channel: number, data: Buffer | string) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
      child.stdout!.on('data', (chunk: Buffer) => frame(1, chunk));
      child.stderr!.on('data', (chunk: Buffer) => frame(2, chunk));
      child.on('close', (code) => {
        const result =
          code === 0
            ? { metadata: {}, status: 'Success' }
            : {
                metadata: {},
                status: 'Failure',
                message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
                reason: 'NonZeroExitCode',
                details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
              };
        frame(3, JSON.stringify(result));
        ws.close(1000);
      });
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
    const intercepted = this.interceptors.findIndex((i) => i.method === method && i.path === url.pathname);
    if (intercepted >= 0) this.interceptors.splice(intercepted, 1)[0]!.run();
    const send = (code: number, payload: Obj | string) => {
      res.writeHead(code, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json' });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
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

  private route(method: string, path: string, query: Record<string, string>, body: Obj | undefined): [number, Obj | string] {
    const ns = path.match(/^\/api\/v1\/namespaces\/([^/]+)$/);
    if (ns && method === 'GET') {
      const name = ns[1]!;
      if (!this.namespaces.has(name)) return [404, status(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' })];
      return [200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: this.nsLabels(name) }, status: { phase: 'Active' } }];
    }
    if (path === '/api/v1/namespaces' && method === 'GET') {
      const items = [...this.namespaces]
        .sort()
        .map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: this.nsLabels(name) }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }))
        .filter((n) => matchesLabels(n.metadata.labels, query.labelSelector));
      return [200, { apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion: String(this.resourceVersion) }, items }];
    }
    const sub = path.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(ephemeralcontainers|log|exec)$/);
    if (sub) return this.podSubresource(method, sub[1]!, sub[2]!, sub[3]!, query, body);
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
      this.kubelet.stopPod(pod);
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
