/**
 * What the Topology tab draws, read from two answers: `GET /api/topology/combined` (what can be targeted: the local
 * sandbox, a Kubernetes cluster, AWS) and `GET /api/topology/steady-state` (the latest probe values per experiment
 * target, ready replicas per workload, instance and DB cluster states). Pure: the tab fetches, this shapes.
 *
 * Each node knows the experiment target that selecting it stands for, in the shapes the experiment model takes
 * (shared/model/experiment.ts): the sandbox service or a Kubernetes workload by its labels, a replica or a pod by name
 * (`pod_names`, which the blast radius does not cap: it is the person's own choice), AWS resources by id.
 */
import type { ExperimentTarget } from './tabs.js';

export type Tone = 'good' | 'bad' | 'warn' | 'info' | 'neutral';

export type NodeKind =
  | 'sandbox-service'
  | 'sandbox-replica'
  | 'cluster'
  | 'namespace'
  | 'deployment'
  | 'statefulset'
  | 'pod'
  | 'service'
  | 'aws'
  | 'vpc'
  | 'subnet'
  | 'route-table'
  | 'instance'
  | 'db-cluster';

/** One probe's latest reading on what a node stands for, from the steady-state answer. */
export interface Signal {
  /** The experiment target it was read for, as the steady-state answer keys it (`sandbox:default/app=demo`). */
  target: string;
  probe: string;
  type: string | null;
  /** What was measured, in words: `HTTP 200 in 12 ms`, `value 0.02`, `latency 900 ms exceeds max_latency_ms 500`. */
  reading: string;
  /** Within its tolerance: true, false, or null when the probe has no verdict. */
  within: boolean | null;
  /** Before, during or after a fault (a reading during one does not count for the steady state). */
  when: string | null;
  measuredAt: string;
  experiment: { id: string; name: string };
}

export interface GraphNode {
  id: string;
  kind: NodeKind;
  name: string;
  /** What it is, in words: `Deployment shop/web`, `sandbox replica replica-2`. */
  description: string;
  /** Its state now, as a word and a tone (never the colour alone). */
  status?: { tone: Tone; text: string };
  /**
   * The steady state as last seen on it, from the experiments that targeted it: true (every probe within tolerance
   * before or after a fault), false, null (read only during faults); undefined when no experiment read it.
   */
  steadyState?: boolean | null;
  signals: Signal[];
  /** What selecting it targets; undefined for what cannot be targeted (a namespace, a protected workload). */
  target?: ExperimentTarget;
  /** The target ids a dry run names for what it stands for (`sandbox/demo/replica-2`, `shop/web-7f9c-x2`, `i-0abc…`). */
  targetIds: string[];
  /** Its labels (a pod, a replica) or tags (an AWS resource). */
  labels?: Record<string, string>;
}

export interface GraphEdge {
  source: string;
  target: string;
}

export interface SourceState {
  name: 'sandbox' | 'kubernetes' | 'aws';
  state: 'shown' | 'not configured' | 'unavailable';
  message?: string;
}

/** Steady-state readings of a target no node stands for (a cluster this control plane does not reach now, say). */
export interface UnplacedTarget {
  target: string;
  steadyState: boolean | null;
  signals: Signal[];
}

export interface TopologyGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  sources: SourceState[];
  unplaced: UnplacedTarget[];
  /** What was not drawn to keep the graph readable, in words (`40 pods: choose their workload`). */
  leftOut: string[];
}

/** The most nodes drawn: the layout compares every pair, and a person cannot read more anyway. */
export const MAX_NODES = 240;

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const arr = (value: unknown): Json[] => (Array.isArray(value) ? value.map(obj) : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const labelsOf = (value: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(value)).map(([k, v]) => [k, String(v)]));
const within = (labels: Record<string, string>, of: Record<string, string>) => Object.entries(labels).every(([key, value]) => of[key] === value);
const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** The combined topology and the steady state, as the graph to draw. */
export function topologyGraph(combined: unknown, steadyState: unknown): TopologyGraph {
  const topology = obj(combined);
  const steady = obj(steadyState);
  const graph: TopologyGraph = { nodes: [], edges: [], sources: [], unplaced: [], leftOut: [] };
  const leaves = new Set<string>();
  const places: Places = {};
  const parts = { sandbox: topology.sandbox, kubernetes: topology.kubernetes, aws: topology.aws };
  for (const name of ['sandbox', 'kubernetes', 'aws'] as const) {
    const part = parts[name];
    if (part === undefined || part === null) {
      graph.sources.push({ name, state: 'not configured' });
      continue;
    }
    const error = obj(obj(part).error);
    if (str(error.message)) {
      graph.sources.push({ name, state: 'unavailable', message: String(error.message) });
      continue;
    }
    graph.sources.push({ name, state: 'shown' });
    if (name === 'sandbox') addSandbox(graph, obj(part), leaves);
    if (name === 'kubernetes') places.cluster = addKubernetes(graph, obj(part), obj(steady.kubernetes), leaves);
    if (name === 'aws') places.region = addAws(graph, obj(part), obj(steady.aws));
  }
  placeSignals(graph, arr(steady.targets), places);
  capLeaves(graph, leaves);
  return graph;
}

// ---- the sandbox ---------------------------------------------------------------------------------------------------

function addSandbox(graph: TopologyGraph, sandbox: Json, leaves: Set<string>): void {
  const service = str(sandbox.service) ?? 'sandbox';
  const labels = labelsOf(sandbox.labels);
  const replicas = arr(sandbox.replicas);
  const desired = num(sandbox.desired_replicas) ?? replicas.length;
  const ready = num(sandbox.ready_replicas) ?? replicas.filter((replica) => replica.ready === true).length;
  const serviceId = `sandbox:${service}`;
  graph.nodes.push({
    id: serviceId,
    kind: 'sandbox-service',
    name: service,
    description: `sandbox service ${service}${str(sandbox.url) ? ` at ${String(sandbox.url)}` : ''}`,
    status: readiness(ready, desired),
    signals: [],
    ...(Object.keys(labels).length > 0 ? { target: { provider: 'sandbox', labels } } : {}),
    targetIds: replicas.map((replica) => String(replica.target ?? '')).filter(Boolean),
    labels,
  });
  for (const replica of replicas) {
    const id = str(replica.id);
    const targetId = str(replica.target);
    if (!id || !targetId) continue;
    graph.nodes.push({
      id: targetId,
      kind: 'sandbox-replica',
      name: id,
      description: `sandbox replica ${id} of ${service}${num(replica.pid) !== undefined ? ` (pid ${String(replica.pid)})` : ''}`,
      status: replica.ready === true ? { tone: 'good', text: 'ready' } : { tone: 'bad', text: 'not ready' },
      signals: [],
      target: { provider: 'sandbox', pod_names: [id] },
      targetIds: [targetId],
      labels: labelsOf(replica.labels),
    });
    graph.edges.push({ source: serviceId, target: targetId });
    leaves.add(targetId);
  }
}

/** `2 of 3 ready`: all ready is good, none is bad, some is a warning. */
function readiness(ready: number, desired: number): { tone: Tone; text: string } {
  return { tone: ready >= desired ? 'good' : ready === 0 ? 'bad' : 'warn', text: `${ready} of ${desired} ready` };
}

// ---- Kubernetes ----------------------------------------------------------------------------------------------------

/** Adds the cluster's resources; answers the cluster's name (null: the default context). */
function addKubernetes(graph: TopologyGraph, kubernetes: Json, signals: Json, leaves: Set<string>): string | null {
  const cluster = str(kubernetes.cluster);
  const rootId = 'k8s';
  graph.nodes.push({ id: rootId, kind: 'cluster', name: cluster ?? 'Kubernetes', description: `Kubernetes cluster ${cluster ?? '(the default context)'}`, signals: [], targetIds: [] });
  const where = (namespace: string) => ({ provider: 'kubernetes', namespace, ...(cluster ? { cluster } : {}) });
  const namespaceId = (namespace: string) => `k8s/ns/${namespace}`;
  const namespaces = new Set<string>();
  const protectedNamespaces = new Set<string>();
  const addNamespace = (namespace: string, phase?: string, isProtected = false) => {
    if (isProtected) protectedNamespaces.add(namespace);
    if (namespaces.has(namespace)) return;
    namespaces.add(namespace);
    graph.nodes.push({
      id: namespaceId(namespace),
      kind: 'namespace',
      name: namespace,
      description: `namespace ${namespace}${isProtected ? ' (protected: never a target)' : ''}`,
      ...(isProtected ? { status: { tone: 'neutral' as Tone, text: 'protected' } } : phase && phase !== 'Active' ? { status: { tone: 'warn' as Tone, text: phase } } : {}),
      signals: [],
      targetIds: [],
    });
    graph.edges.push({ source: rootId, target: namespaceId(namespace) });
  };
  for (const namespace of arr(kubernetes.namespaces)) {
    const name = str(namespace.name);
    if (name) addNamespace(name, str(namespace.phase), namespace.protected === true);
  }
  const pods = arr(kubernetes.pods).filter((pod) => str(pod.name) && str(pod.namespace));
  // Ready replicas as the steady-state answer read them (the newer reading), else as the topology did.
  const readNow = new Map<string, Json>();
  for (const kind of ['deployments', 'statefulsets']) for (const w of arr(signals[kind])) readNow.set(`${kind}/${String(w.namespace)}/${String(w.name)}`, w);
  for (const kind of ['deployments', 'statefulsets'] as const) {
    for (const workload of arr(kubernetes[kind])) {
      const namespace = str(workload.namespace);
      const name = str(workload.name);
      if (!namespace || !name) continue;
      addNamespace(namespace, undefined, workload.protected === true);
      const selector = labelsOf(workload.selector);
      const labels = Object.keys(selector).length > 0 ? selector : labelsOf(workload.labels);
      const now = readNow.get(`${kind}/${namespace}/${name}`) ?? workload;
      const isProtected = workload.protected === true;
      const id = `k8s/${kind}/${namespace}/${name}`;
      const kindName = kind === 'deployments' ? 'Deployment' : 'StatefulSet';
      graph.nodes.push({
        id,
        kind: kind === 'deployments' ? 'deployment' : 'statefulset',
        name,
        description: `${kindName} ${namespace}/${name}${isProtected ? ' (protected namespace: never a target)' : ''}`,
        status: readiness(num(now.ready_replicas) ?? 0, num(now.replicas) ?? 1),
        signals: [],
        ...(isProtected || Object.keys(labels).length === 0 ? {} : { target: { ...where(namespace), labels } }),
        targetIds: pods.filter((pod) => pod.namespace === namespace && Object.keys(labels).length > 0 && within(labels, labelsOf(pod.labels))).map((pod) => `${namespace}/${String(pod.name)}`),
      });
      graph.edges.push({ source: namespaceId(namespace), target: id });
    }
  }
  for (const service of arr(kubernetes.services)) {
    const namespace = str(service.namespace);
    const name = str(service.name);
    if (!namespace || !name) continue;
    addNamespace(namespace);
    const selector = labelsOf(service.selector);
    const isProtected = protectedNamespaces.has(namespace);
    graph.nodes.push({
      id: `k8s/service/${namespace}/${name}`,
      kind: 'service',
      name,
      description: `Service ${namespace}/${name} (${str(service.type) ?? 'ClusterIP'})${Object.keys(selector).length > 0 ? `, selecting ${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`,
      signals: [],
      ...(isProtected || Object.keys(selector).length === 0 ? {} : { target: { ...where(namespace), labels: selector } }),
      targetIds: pods.filter((pod) => pod.namespace === namespace && Object.keys(selector).length > 0 && within(selector, labelsOf(pod.labels))).map((pod) => `${namespace}/${String(pod.name)}`),
    });
    graph.edges.push({ source: namespaceId(namespace), target: `k8s/service/${namespace}/${name}` });
  }
  for (const pod of pods) {
    const namespace = String(pod.namespace);
    const name = String(pod.name);
    const id = `k8s/pod/${namespace}/${name}`;
    addNamespace(namespace, undefined, pod.protected === true);
    const phase = str(pod.phase) ?? 'Unknown';
    graph.nodes.push({
      id,
      kind: 'pod',
      name,
      description: `pod ${namespace}/${name}${str(pod.node) ? ` on ${String(pod.node)}` : ''}${Array.isArray(pod.chaos_agents) && pod.chaos_agents.length > 0 ? ' (a chaos agent is attached)' : ''}`,
      status: pod.ready === true ? { tone: 'good', text: 'ready' } : { tone: phase === 'Failed' ? 'bad' : 'warn', text: phase === 'Running' ? 'not ready' : phase.toLowerCase() },
      signals: [],
      ...(pod.protected === true ? {} : { target: { ...where(namespace), pod_names: [name] } }),
      targetIds: [`${namespace}/${name}`],
      labels: labelsOf(pod.labels),
    });
    // Under the workloads and services that select it; a pod nothing selects hangs from its namespace.
    const owners = graph.nodes.filter((node) => (node.kind === 'deployment' || node.kind === 'statefulset' || node.kind === 'service') && node.targetIds.includes(`${namespace}/${name}`));
    for (const owner of owners) graph.edges.push({ source: owner.id, target: id });
    if (owners.length === 0) graph.edges.push({ source: namespaceId(namespace), target: id });
    leaves.add(id);
  }
  return cluster ?? null;
}

// ---- AWS -----------------------------------------------------------------------------------------------------------

const INSTANCE_TONES: Record<string, Tone> = { running: 'good', pending: 'warn', stopping: 'warn', 'shutting-down': 'warn', stopped: 'bad', terminated: 'bad' };
const DB_TONES: Record<string, Tone> = { available: 'good', 'failing-over': 'warn', modifying: 'warn', rebooting: 'warn', maintenance: 'warn', stopped: 'bad', failed: 'bad' };

/** Adds the tagged resources; answers their region (null: not said). */
function addAws(graph: TopologyGraph, aws: Json, signals: Json): string | null {
  const region = str(aws.region);
  const rootId = 'aws';
  const inRegion = region ? { region } : {};
  graph.nodes.push({ id: rootId, kind: 'aws', name: region ?? 'AWS', description: `AWS${region ? ` in ${region}` : ''}${str(aws.tag) ? `, resources tagged ${String(aws.tag)}` : ''}`, signals: [], targetIds: [] });
  const stateNow = new Map<string, string>();
  for (const instance of arr(signals.instances)) if (str(instance.instance_id) && str(instance.state)) stateNow.set(String(instance.instance_id), String(instance.state));
  for (const cluster of arr(signals.db_clusters)) if (str(cluster.db_cluster_identifier) && str(cluster.status)) stateNow.set(String(cluster.db_cluster_identifier), String(cluster.status));
  const ids = new Set<string>();
  const add = (node: GraphNode, parent: string | undefined) => {
    ids.add(node.id);
    graph.nodes.push(node);
    graph.edges.push({ source: parent && ids.has(parent) ? parent : rootId, target: node.id });
  };
  for (const vpc of arr(aws.vpcs)) {
    const id = str(vpc.vpc_id);
    if (id) add({ id: `aws/vpc/${id}`, kind: 'vpc', name: nameTag(vpc) ?? id, description: `VPC ${id}${str(vpc.cidr) ? ` (${String(vpc.cidr)})` : ''}`, signals: [], targetIds: [] }, undefined);
  }
  for (const subnet of arr(aws.subnets)) {
    const id = str(subnet.subnet_id);
    if (!id) continue;
    add(
      {
        id: `aws/subnet/${id}`,
        kind: 'subnet',
        name: nameTag(subnet) ?? id,
        description: `subnet ${id}${str(subnet.az) ? ` in ${String(subnet.az)}` : ''}${str(subnet.cidr) ? ` (${String(subnet.cidr)})` : ''}`,
        signals: [],
        target: { provider: 'aws', subnet_ids: [id], ...inRegion },
        targetIds: [id],
        labels: labelsOf(subnet.tags),
      },
      `aws/vpc/${String(subnet.vpc_id)}`,
    );
  }
  for (const table of arr(aws.route_tables)) {
    const id = str(table.route_table_id);
    if (!id) continue;
    add(
      {
        id: `aws/rtb/${id}`,
        kind: 'route-table',
        name: nameTag(table) ?? id,
        description: `route table ${id}${table.main === true ? ' (main)' : ''}`,
        signals: [],
        target: { provider: 'aws', route_table_id: id, ...inRegion },
        targetIds: [id],
        labels: labelsOf(table.tags),
      },
      `aws/vpc/${String(table.vpc_id)}`,
    );
  }
  for (const instance of arr(aws.instances)) {
    const id = str(instance.instance_id);
    if (!id) continue;
    const state = stateNow.get(id) ?? str(instance.state) ?? 'unknown';
    add(
      {
        id: `aws/instance/${id}`,
        kind: 'instance',
        name: nameTag(instance) ?? id,
        description: `EC2 instance ${id}${str(instance.type) ? ` (${String(instance.type)})` : ''}${str(instance.az) ? ` in ${String(instance.az)}` : ''}`,
        status: { tone: INSTANCE_TONES[state] ?? 'neutral', text: state },
        signals: [],
        target: { provider: 'aws', instance_ids: [id], ...inRegion },
        targetIds: [id],
        labels: labelsOf(instance.tags),
      },
      `aws/subnet/${String(instance.subnet_id)}`,
    );
  }
  for (const cluster of arr(aws.db_clusters)) {
    const id = str(cluster.db_cluster_identifier);
    if (!id) continue;
    const status = stateNow.get(id) ?? str(cluster.status) ?? 'unknown';
    add(
      {
        id: `aws/db/${id}`,
        kind: 'db-cluster',
        name: id,
        description: `DB cluster ${id}${str(cluster.engine) ? ` (${String(cluster.engine)})` : ''}${str(cluster.writer) ? `, writer ${String(cluster.writer)}` : ''}`,
        status: { tone: DB_TONES[status] ?? 'neutral', text: status },
        signals: [],
        target: { provider: 'aws', db_cluster_identifier: id, ...inRegion },
        targetIds: [id],
        labels: labelsOf(cluster.tags),
      },
      undefined,
    );
  }
  return region ?? null;
}

const nameTag = (resource: Json): string | undefined => str(labelsOf(resource.tags).Name);

// ---- steady-state signals ------------------------------------------------------------------------------------------

/** An experiment target's key read back: where it is, and its selector (labels, and names or ids). */
export interface ParsedTarget {
  provider: string;
  /** For AWS: `ec2`, `rds` or `network`. */
  kind?: string;
  labels: Record<string, string>;
  names: string[];
}

/**
 * The selector of a steady-state target key (shared/observability/steady-state.ts: experimentTarget): what follows
 * the provider and the place (`cluster/namespace/` for workloads, `account/region/kind:` for AWS), its parts sorted
 * and comma-separated, `key=value` for labels and tags, a bare word for a name or an id.
 */
export function parseTargetKey(entry: { target: string; provider?: string; namespace?: string; cluster?: string }): ParsedTarget {
  const provider = entry.provider ?? entry.target.slice(0, entry.target.indexOf(':'));
  const rest = entry.target.slice(provider.length + 1);
  let selector = '';
  let kind: string | undefined;
  if (entry.namespace !== undefined) {
    const place = `${entry.cluster ? `${entry.cluster}/` : ''}${entry.namespace}/`;
    selector = rest.startsWith(place) ? rest.slice(place.length) : rest.slice(rest.lastIndexOf('/') + 1);
  } else {
    const aws = /^(?:\d{12}\/)?(?:[a-z]{2}(?:-gov)?-[a-z]+-\d\/)?([a-z0-9_]+):(.*)$/.exec(rest);
    kind = aws?.[1];
    selector = aws?.[2] ?? '';
  }
  const labels: Record<string, string> = {};
  const names: string[] = [];
  for (const part of selector.split(',').filter(Boolean)) {
    const equals = part.indexOf('=');
    if (equals > 0) labels[part.slice(0, equals)] = part.slice(equals + 1);
    else names.push(part);
  }
  return { provider, ...(kind ? { kind } : {}), labels, names };
}

/** Where this control plane's sources are: the cluster (null: the default context) and the AWS region, when shown. */
interface Places {
  cluster?: string | null;
  region?: string | null;
}

/** The node kinds an AWS target key's kind stands for. */
const AWS_NODE_KINDS: Record<string, NodeKind[]> = { ec2: ['instance'], rds: ['db-cluster'], network: ['subnet', 'route-table'] };

/** The nodes a steady-state target's readings belong on: the replicas, pods or resources it names, else what its labels select. */
function nodesFor(graph: TopologyGraph, entry: Json, places: Places): GraphNode[] {
  const target = String(entry.target);
  const namespace = str(entry.namespace);
  const cluster = str(entry.cluster) ?? null;
  const region = str(entry.region);
  const parsed = parseTargetKey({ target, ...(str(entry.provider) ? { provider: String(entry.provider) } : {}), ...(namespace ? { namespace } : {}), ...(cluster ? { cluster } : {}) });
  const { provider, labels, names } = parsed;
  const selects = (node: GraphNode) => Object.keys(labels).length > 0 && within(labels, node.labels ?? {});
  if (provider === 'sandbox') {
    const named = [...names, ...(labels.replica ? [labels.replica] : [])];
    if (named.length > 0) return graph.nodes.filter((node) => node.kind === 'sandbox-replica' && named.includes(node.name));
    return graph.nodes.filter((node) => node.kind === 'sandbox-service' && selects(node));
  }
  if (provider === 'aws') {
    if (places.region === undefined || (region && places.region && region !== places.region)) return [];
    const kinds = AWS_NODE_KINDS[parsed.kind ?? ''] ?? [];
    return graph.nodes.filter((node) => kinds.includes(node.kind) && (names.length > 0 ? node.targetIds.some((id) => names.includes(id)) : selects(node)));
  }
  if (namespace === undefined || places.cluster === undefined || cluster !== places.cluster) return [];
  if (names.length > 0) return graph.nodes.filter((node) => node.kind === 'pod' && node.id === `k8s/pod/${namespace}/${node.name}` && names.includes(node.name));
  // By labels: the workloads whose selector holds them, or that they narrow down.
  return graph.nodes.filter((node) => {
    if ((node.kind !== 'deployment' && node.kind !== 'statefulset') || !node.id.startsWith(`k8s/${node.kind}s/${namespace}/`)) return false;
    const selector = labelsOf((node.target as { labels?: unknown } | undefined)?.labels);
    return Object.keys(selector).length > 0 && (within(labels, selector) || within(selector, labels));
  });
}

function placeSignals(graph: TopologyGraph, targets: Json[], places: Places): void {
  for (const entry of targets) {
    const key = str(entry.target);
    if (!key) continue;
    const signals = arr(entry.probes).map((probe) => signalOf(key, probe));
    const met = entry.steady_state_met === true ? true : entry.steady_state_met === false ? false : null;
    const nodes = nodesFor(graph, entry, places);
    if (nodes.length === 0) {
      graph.unplaced.push({ target: key, steadyState: met, signals });
      continue;
    }
    for (const node of nodes) {
      node.signals.push(...signals);
      // Not met anywhere is not met; met needs a verdict; read only during faults is no verdict.
      node.steadyState = node.steadyState === false || met === false ? false : node.steadyState === true || met === true ? true : null;
    }
  }
}

function signalOf(target: string, probe: Json): Signal {
  const experiment = obj(probe.experiment);
  return {
    target,
    probe: str(probe.name) ?? '(unnamed probe)',
    type: str(probe.type) ?? null,
    reading: readingOf(probe),
    within: probe.within_tolerance === true ? true : probe.within_tolerance === false ? false : null,
    when: str(probe.when) ?? null,
    measuredAt: str(probe.measured_at) ?? '',
    experiment: { id: str(experiment.id) ?? '', name: str(experiment.name) ?? '' },
  };
}

/** A probe's output in a few words: the value it measured, an HTTP status and latency, an exit code; and why it failed. */
export function readingOf(probe: Json): string {
  const output = obj(probe.output);
  const parts: string[] = [];
  if (num(output.value) !== undefined) parts.push(`value ${String(output.value)}`);
  else if (output.value === null && str(output.non_finite)) parts.push(`value ${String(output.non_finite)}`);
  if (num(output.status) !== undefined) parts.push(`HTTP ${String(output.status)}`);
  if (num(output.latency_ms) !== undefined) parts.push(`${parts.length > 0 ? 'in ' : ''}${Math.round(output.latency_ms as number)} ms`);
  if (num(output.exit_code) !== undefined) parts.push(`exit code ${String(output.exit_code)}`);
  if (str(output.state)) parts.push(String(output.state));
  const failures = Array.isArray(output.failures) ? output.failures.filter((failure): failure is string => typeof failure === 'string') : [];
  const exception = Array.isArray(probe.exception) ? probe.exception.filter((line): line is string => typeof line === 'string') : [];
  const why = failures[0] ?? exception[0];
  if (why) parts.push(parts.length > 0 ? `— ${why}` : why);
  return parts.join(' ') || String(probe.status ?? 'no reading');
}

// ---- keeping it readable -------------------------------------------------------------------------------------------

/** Over `MAX_NODES`, pods and replicas are left out (their workload or service stands for them), and it is said. */
function capLeaves(graph: TopologyGraph, leaves: Set<string>): void {
  if (graph.nodes.length <= MAX_NODES) return;
  const dropped = graph.nodes.filter((node) => leaves.has(node.id));
  graph.nodes = graph.nodes.filter((node) => !leaves.has(node.id));
  graph.edges = graph.edges.filter((edge) => !leaves.has(edge.source) && !leaves.has(edge.target));
  const pods = dropped.filter((node) => node.kind === 'pod').length;
  const replicas = dropped.length - pods;
  if (pods > 0) graph.leftOut.push(`${plural(pods, 'pod')} (select their workload or service instead)`);
  if (replicas > 0) graph.leftOut.push(`${plural(replicas, 'sandbox replica')} (select the service instead)`);
  if (graph.nodes.length > MAX_NODES) {
    graph.leftOut.push(`${plural(graph.nodes.length - MAX_NODES, 'more resource')}`);
    const kept = new Set(graph.nodes.slice(0, MAX_NODES).map((node) => node.id));
    graph.nodes = graph.nodes.filter((node) => kept.has(node.id));
    graph.edges = graph.edges.filter((edge) => kept.has(edge.source) && kept.has(edge.target));
  }
}

// ---- from selected nodes to one experiment target ------------------------------------------------------------------

/**
 * The one experiment target that the selected nodes stand for together: several sandbox replicas, pods of one
 * namespace, EC2 instances or subnets are named in one list (`pod_names`, `instance_ids`, `subnet_ids`), all of them
 * hit (`selection: ALL`); anything else is one node at a time. `problem` says why they cannot be one target.
 */
export function targetOf(nodes: readonly GraphNode[]): { target: ExperimentTarget } | { problem: string } {
  const targetable = nodes.filter((node) => node.target);
  if (targetable.length === 0) return { problem: nodes.length === 0 ? 'nothing is selected' : `${nodes[0]?.description ?? 'this'} cannot be targeted` };
  if (targetable.length === 1) return { target: (targetable[0] as GraphNode).target as ExperimentTarget };
  const targets = targetable.map((node) => node.target as Record<string, unknown>);
  const first = targets[0] as Record<string, unknown>;
  const list = (['pod_names', 'instance_ids', 'subnet_ids'] as const).find((field) => Array.isArray(first[field]));
  const place = (target: Record<string, unknown>) => JSON.stringify([target.provider, target.namespace, target.cluster, target.region]);
  if (!list || !targets.every((target) => Array.isArray(target[list]) && place(target) === place(first))) {
    return { problem: 'one experiment targets one kind of thing in one place: several replicas, pods of one namespace, instances or subnets, or one workload, service or database' };
  }
  // Named together, they are all meant: the default selection would pick one of them.
  return { target: { ...first, [list]: [...new Set(targets.flatMap((target) => target[list] as string[]))], selection: 'ALL' } as ExperimentTarget };
}

/** Whether `node` can join the selection `selected` as part of one target. */
export function joins(selected: readonly GraphNode[], node: GraphNode): boolean {
  return selected.length === 0 || 'target' in targetOf([...selected, node]);
}
