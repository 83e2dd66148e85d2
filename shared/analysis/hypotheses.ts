/**
 * Failure hypotheses for a topology, offline: what could go wrong with what is there, ranked by how likely it is to
 * hurt, each with the experiment that would test it. Read from the topology routes' shapes (Kubernetes workloads,
 * AWS instances, DB clusters and subnets, the local sandbox), so the same function serves a topology sent in a request
 * and the control plane's own.
 */
import * as z from 'zod';
import type { JsonObject, JsonValue } from '../journal/activity.js';
import { blastRadiusFor } from '../model/selection.js';

export const hypothesisSchema = z.object({
  rank: z.number().int().min(1),
  title: z.string().min(1).max(200),
  statement: z.string().min(1).max(1000),
  likelihood: z.enum(['high', 'medium', 'low']),
  impact: z.enum(['high', 'medium', 'low']),
  rationale: z.string().min(1).max(1000),
  /** The request body of the experiment that tests it (`POST /api/chaos/experiments`). */
  experiment: z.record(z.string(), z.unknown()),
});
export type Hypothesis = z.infer<typeof hypothesisSchema>;

const obj = (value: unknown): JsonObject => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {});
const arr = (value: unknown): JsonValue[] => (Array.isArray(value) ? (value as JsonValue[]) : []);
const LEVEL = { high: 3, medium: 2, low: 1 } as const;

type Draft = Omit<Hypothesis, 'rank'>;

/** `steadyState`: what "healthy" means here, if the caller says (an http probe on the service, say); it is added to every experiment. */
export function hypothesesFor(topology: JsonObject, steadyState?: JsonObject): Hypothesis[] {
  const drafts: Draft[] = [];
  const probes = steadyStateProbes(steadyState);
  const kubernetes = obj(topology.kubernetes ?? (topology.deployments ? topology : undefined));
  for (const workload of [...arr(kubernetes.deployments), ...arr(kubernetes.statefulsets)].map(obj)) {
    if (workload.protected === true) continue; // kube-system and friends are never targets
    const name = String(workload.name ?? '');
    const namespace = String(workload.namespace ?? 'default');
    const selector = Object.keys(obj(workload.selector)).length > 0 ? obj(workload.selector) : obj(workload.labels);
    if (!name || Object.keys(selector).length === 0) continue;
    const replicas = Number(workload.replicas ?? 1);
    const ready = Number(workload.ready_replicas ?? replicas);
    // The pool a selection is capped by: the pods there are now (a degraded workload has fewer than it wants).
    const running = Math.min(replicas, ready);
    const target = { provider: 'kubernetes', namespace, labels: selector, ...(kubernetes.cluster ? { cluster: kubernetes.cluster } : {}) };
    const kind = String(workload.kind ?? 'Deployment');
    if (ready < replicas) {
      // A problem now, not a risk: first among equals.
      drafts.unshift({
        title: `${name} is already degraded`,
        statement: `${kind} ${namespace}/${name} has ${ready} of ${replicas} replicas ready: losing one more pod may take it down`,
        likelihood: 'high',
        impact: 'high',
        rationale: 'a workload below its desired replicas has less room for any further failure; fix it before experimenting further',
        experiment: experiment(`${name}-degraded-pod-delete`, 'pod_delete', target, { duration_seconds: 30 }, probes, { max_blast_radius: radiusForOne(ready) }),
      });
    }
    if (replicas <= 1) {
      drafts.push({
        title: `${name} has a single replica`,
        statement: `When the only pod of ${kind} ${namespace}/${name} is deleted, ${name} is unavailable until a new pod is ready`,
        likelihood: 'high',
        impact: 'high',
        rationale: 'one replica is a single point of failure: a node drain, an eviction or a crash has the same effect as this experiment',
        experiment: experiment(`${name}-single-replica-pod-delete`, 'pod_delete', target, { duration_seconds: 60 }, probes, { max_blast_radius: 1 }),
      });
    } else {
      drafts.push({
        title: `${name} loses one of ${replicas} pods`,
        statement: `When one of the ${replicas} pods of ${kind} ${namespace}/${name} is deleted, ${name} keeps serving while it is replaced${kind === 'StatefulSet' ? ' under the same name, and its clients reconnect' : ''}`,
        likelihood: 'medium',
        impact: kind === 'StatefulSet' ? 'high' : 'medium',
        rationale: `pods are deleted routinely (rollouts, node drains, evictions); ${replicas} replicas should cover one loss if readiness and load balancing work`,
        experiment: experiment(`${name}-pod-delete`, 'pod_delete', { ...target, selection: 'COUNT(1)' }, { duration_seconds: 60 }, probes, { max_blast_radius: radiusForOne(running) }),
      });
    }
    drafts.push({
      title: `${name} under network latency`,
      statement: `When ${name}'s pods answer 200 ms slower, its callers stay within their timeouts and the steady state holds`,
      likelihood: 'medium',
      impact: 'medium',
      rationale: 'slow dependencies are more common than dead ones, and callers without timeouts turn them into outages',
      experiment: experiment(`${name}-latency`, 'network_latency', { ...target, selection: 'COUNT(1)' }, { latency_ms: 200, duration_seconds: 60 }, probes, { max_blast_radius: radiusForOne(running) }),
    });
  }
  const aws = obj(topology.aws);
  for (const instance of arr(aws.instances).map(obj)) {
    const id = String(instance.instance_id ?? '');
    if (!/^i-[0-9a-f]{8,17}$/.test(id) || instance.state !== 'running') continue;
    const autoscaled = Object.keys(obj(instance.tags)).some((key) => key === 'aws:autoscaling:groupName');
    drafts.push({
      title: `EC2 instance ${id} stops`,
      statement: `When instance ${id} stops, the service it runs ${autoscaled ? 'is replaced by its Auto Scaling group and ' : ''}keeps its steady state`,
      likelihood: autoscaled ? 'medium' : 'high',
      impact: autoscaled ? 'medium' : 'high',
      rationale: autoscaled ? 'the Auto Scaling group should replace it; the experiment shows how long that takes' : 'an instance outside an Auto Scaling group is not replaced when it fails',
      experiment: experiment(`${id}-stop`, 'ec2_stop', { provider: 'aws', instance_ids: [id], ...(aws.region ? { region: aws.region } : {}) }, { duration_seconds: 120 }, probes, { timeout_seconds: 300 }),
    });
  }
  for (const cluster of arr(aws.db_clusters).map(obj)) {
    const id = String(cluster.db_cluster_identifier ?? '');
    if (!/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(id)) continue;
    drafts.push({
      title: `DB cluster ${id} fails over`,
      statement: `When ${id} fails over to a reader, clients reconnect within a minute and no write is lost`,
      likelihood: 'medium',
      impact: 'high',
      rationale: 'failovers happen at maintenance and on instance failure; clients that cache the writer\'s address or never retry keep failing',
      experiment: experiment(`${id}-failover`, 'rds_failover', { provider: 'aws', db_cluster_identifier: id, ...(aws.region ? { region: aws.region } : {}) }, { duration_seconds: 120 }, probes, { timeout_seconds: 600 }),
    });
  }
  const sandbox = obj(topology.sandbox);
  if (arr(sandbox.replicas).length > 0 || sandbox.url || sandbox.available === true) {
    // Its live replicas, when it runs; the radius is what one of them needs (0.34 of 3), else 0.5, which allows one of 2 or 3.
    const replicas = arr(sandbox.replicas).length || Number(sandbox.desired_replicas) || 0;
    drafts.push({
      title: 'the sandbox service loses a replica',
      statement: 'When one sandbox replica is killed, the demo service keeps answering through its proxy',
      likelihood: 'medium',
      impact: 'medium',
      rationale: `the local demo service runs several replicas behind a proxy; a kill shows how fast the supervisor replaces one${replicas > 0 ? ` (safety.max_blast_radius ${radiusForOne(replicas)}: one of its ${replicas} replicas)` : ''}`,
      experiment: experiment('sandbox-pod-delete', 'pod_delete', { provider: 'sandbox', labels: { app: 'demo' }, selection: 'COUNT(1)' }, { duration_seconds: 6 }, sandbox.url ? [httpProbe(`${String(sandbox.url)}/health`)] : probes, { max_blast_radius: replicas > 0 ? radiusForOne(replicas) : 0.5, health_check_interval: 2, health_check_failure_threshold: 2 }),
    });
  }
  return drafts
    .map((draft, index) => ({ draft, index }))
    .sort((a, b) => LEVEL[b.draft.likelihood] * LEVEL[b.draft.impact] - LEVEL[a.draft.likelihood] * LEVEL[a.draft.impact] || a.index - b.index)
    .map(({ draft }, index) => ({ rank: index + 1, ...draft }));
}

/** The blast radius that lets an experiment hit one of `pool` targets: 0.34 for 3, 1 for 1. */
const radiusForOne = (pool: number): number => Number(blastRadiusFor(1, Math.max(1, pool)));

function experiment(
  name: string,
  chaosType: string,
  target: Record<string, unknown>,
  parameters: Record<string, unknown>,
  probes: JsonObject[],
  safety: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: name.replace(/[^\w .:@/-]/g, '-').slice(0, 128),
    chaos_type: chaosType,
    target,
    parameters,
    safety: { ...safety, ...('max_blast_radius' in safety ? { max_blast_radius: Math.min(1, Math.round(Number(safety.max_blast_radius) * 100) / 100) } : {}) },
    ...(probes.length > 0 ? { probes } : {}),
  };
}

const httpProbe = (url: string): JsonObject => ({ name: 'health', type: 'http', mode: 'continuous', properties: { url, expected_status: 200 } });

/** Probes from a steady state as the seed describes it: `{probes: […]}`, or `{url}` for one http probe. */
function steadyStateProbes(steadyState: JsonObject | undefined): JsonObject[] {
  if (!steadyState) return [];
  if (Array.isArray(steadyState.probes)) return steadyState.probes.map(obj).slice(0, 10);
  if (typeof steadyState.url === 'string') return [httpProbe(steadyState.url)];
  return [];
}
