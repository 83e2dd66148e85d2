/**
 * Failure hypotheses from a topology, offline: what is there, what could go wrong, ranked, each with a valid
 * experiment that tests it; protected namespaces never appear.
 */
import { describe, expect, it } from 'vitest';
import { hypothesesFor } from '../../../shared/analysis/hypotheses.js';
import type { JsonObject } from '../../../shared/journal/activity.js';
import { parseExperiment } from '../../../shared/model/parse.js';

const deployment = (namespace: string, name: string, replicas: number, ready = replicas) => ({
  kind: 'Deployment',
  namespace,
  name,
  protected: namespace === 'kube-system',
  labels: { app: name },
  selector: { app: name },
  replicas,
  ready_replicas: ready,
});

const topology = {
  kubernetes: {
    cluster: 'kind-chaos',
    deployments: [deployment('shop', 'web', 3), deployment('shop', 'cart', 1), deployment('shop', 'search', 4, 2), deployment('kube-system', 'coredns', 2)],
    statefulsets: [{ ...deployment('shop', 'db', 3), kind: 'StatefulSet' }],
  },
  aws: {
    region: 'eu-west-1',
    instances: [
      { instance_id: 'i-0123456789abcdef0', state: 'running', tags: {} },
      { instance_id: 'i-0fedcba9876543210', state: 'running', tags: { 'aws:autoscaling:groupName': 'web-asg' } },
      { instance_id: 'i-00000000000000000', state: 'stopped', tags: {} },
    ],
    db_clusters: [{ db_cluster_identifier: 'orders-db' }],
  },
} as unknown as JsonObject;

describe('failure hypotheses for a topology', () => {
  it('ranks what is most likely to hurt first, each with a valid experiment that tests it', () => {
    const hypotheses = hypothesesFor(topology, { url: 'https://shop.example.com/health' });

    expect(hypotheses.slice(0, 4).map((h) => h.title)).toEqual(['search is already degraded', 'cart has a single replica', 'EC2 instance i-0123456789abcdef0 stops', 'db loses one of 3 pods']);
    expect(hypotheses.map((h) => h.rank)).toEqual(hypotheses.map((_, i) => i + 1));
    for (const hypothesis of hypotheses) {
      expect(() => parseExperiment(hypothesis.experiment), hypothesis.title).not.toThrow();
      expect(hypothesis.experiment.probes).toEqual([{ name: 'health', type: 'http', mode: 'continuous', properties: { url: 'https://shop.example.com/health', expected_status: 200 } }]);
    }
    expect(hypotheses.find((h) => h.title === 'cart has a single replica')?.experiment).toMatchObject({
      chaos_type: 'pod_delete',
      target: { provider: 'kubernetes', namespace: 'shop', labels: { app: 'cart' }, cluster: 'kind-chaos' },
    });
    expect(hypotheses.find((h) => h.title === 'DB cluster orders-db fails over')?.experiment).toMatchObject({ chaos_type: 'rds_failover', target: { db_cluster_identifier: 'orders-db', region: 'eu-west-1' } });
  });

  it('leaves out protected namespaces and stopped instances', () => {
    const titles = hypothesesFor(topology).map((h) => h.title).join('\n');

    expect(titles).not.toContain('coredns');
    expect(titles).not.toContain('i-00000000000000000');
  });

  it('has nothing to say about an empty topology', () => {
    expect(hypothesesFor({})).toEqual([]);
  });

  it('offers the sandbox where the control plane has one', () => {
    const [sandbox] = hypothesesFor({ sandbox: { available: true } } as JsonObject);

    expect(sandbox?.experiment).toMatchObject({ chaos_type: 'pod_delete', target: { provider: 'sandbox', labels: { app: 'demo' } } });
    expect(() => parseExperiment(sandbox?.experiment)).not.toThrow();
  });

  it('sets the blast radius each pool-selected experiment needs for one target, so none is refused for the pool it was made for', () => {
    const sandbox = { sandbox: { available: true, url: 'http://127.0.0.1:9000', labels: { app: 'demo' }, replicas: [{}, {}, {}] } } as unknown as JsonObject;
    const [hypothesis] = hypothesesFor(sandbox);
    expect(hypothesis?.experiment.safety).toMatchObject({ max_blast_radius: 0.34 });
    expect(hypothesis?.rationale).toContain('safety.max_blast_radius 0.34: one of its 3 replicas');
    // A degraded deployment: one of its 3 ready pods needs 0.34 (1/3 rounded to 0.33 would allow none).
    const degraded = hypothesesFor({ kubernetes: { deployments: [deployment('shop', 'api', 4, 3)] } } as unknown as JsonObject);
    const first = degraded.find((h) => h.title === 'api is already degraded');
    expect(first?.experiment.safety).toMatchObject({ max_blast_radius: 0.34 });
    for (const { experiment } of degraded) expect(Math.floor(Number((experiment.safety as { max_blast_radius: number }).max_blast_radius) * 3 + 1e-9)).toBeGreaterThanOrEqual(1);
  });
});
