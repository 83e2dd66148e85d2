/**
 * The offline natural-language grammar on prompts in English and Korean, from the seed's vocabulary: each must turn
 * into the experiment a person would have written, valid under the same model as `POST /api/chaos/experiments`; and
 * what it cannot place is said, naming what is missing.
 */
import { describe, expect, it } from 'vitest';
import { NotUnderstoodError, experimentFromText } from '../../../shared/analysis/nl.js';
import { parseExperiment } from '../../../shared/model/parse.js';

/** Prompt → the fields it must set (compared with toMatchObject; the rest is defaults). */
const CASES: [string, Record<string, unknown>][] = [
  // The seed's example: kill one nginx pod at random, observe recovery.
  ['nginx pod 하나를 랜덤으로 죽이고 복구 시간 관찰', { chaos_type: 'pod_delete', target: { labels: { app: 'nginx' }, selection: 'COUNT(1)' } }],
  ['kill one nginx pod at random and watch it recover', { chaos_type: 'pod_delete', target: { labels: { app: 'nginx' }, selection: 'COUNT(1)' } }],
  ['delete 2 checkout pods in namespace shop', { chaos_type: 'pod_delete', target: { labels: { app: 'checkout' }, namespace: 'shop', selection: 'COUNT(2)' } }],
  ['terminate half of the web pods', { chaos_type: 'pod_delete', target: { labels: { app: 'web' }, selection: 'PERCENT(50)' } }],
  ['remove 25% of the pods with app=api for 2 minutes', { chaos_type: 'pod_delete', target: { labels: { app: 'api' }, selection: 'PERCENT(25)' }, parameters: { duration_seconds: 120 } }],
  ['kill all frontend replicas in the staging namespace', { chaos_type: 'pod_delete', target: { labels: { app: 'frontend' }, namespace: 'staging', selection: 'ALL' } }],
  ['kill a sandbox replica for 5 seconds', { chaos_type: 'pod_delete', target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'COUNT(1)' }, parameters: { duration_seconds: 5 } }],
  ['payment 파드 2개 삭제하고 1분 동안 관찰', { chaos_type: 'pod_delete', target: { labels: { app: 'payment' }, selection: 'COUNT(2)' }, parameters: { duration_seconds: 60 } }],
  ['shop 네임스페이스의 cart 파드를 종료', { chaos_type: 'pod_delete', target: { labels: { app: 'cart' }, namespace: 'shop' } }],
  ['delete the redis pod with a grace period of 10 seconds', { chaos_type: 'pod_delete', target: { labels: { app: 'redis' } }, parameters: { grace_period_seconds: 10 } }],
  ['add 200ms latency to the checkout pods for 2 minutes', { chaos_type: 'network_latency', target: { labels: { app: 'checkout' } }, parameters: { latency_ms: 200, duration_seconds: 120 } }],
  ['inject 300 ms delay with 50ms jitter into api pods', { chaos_type: 'network_latency', target: { labels: { app: 'api' } }, parameters: { latency_ms: 300, jitter_ms: 50 } }],
  ['slow down the network of the search service by 1 second of latency', { chaos_type: 'network_latency', target: { labels: { app: 'search' } }, parameters: { latency_ms: 1000 } }],
  ['web 파드에 500ms 지연을 30초 동안 주입', { chaos_type: 'network_latency', target: { labels: { app: 'web' } }, parameters: { latency_ms: 500, duration_seconds: 30 } }],
  ['api 서비스 네트워크를 느리게', { chaos_type: 'network_latency', target: { labels: { app: 'api' } } }],
  ['drop 20% of packets to the gateway pods', { chaos_type: 'network_loss', target: { labels: { app: 'gateway' } }, parameters: { loss_percent: 20 } }],
  ['cause 5 percent packet loss on orders pods for 45s', { chaos_type: 'network_loss', target: { labels: { app: 'orders' } }, parameters: { loss_percent: 5, duration_seconds: 45 } }],
  ['db 파드에 패킷 손실 30% 주입', { chaos_type: 'network_loss', target: { labels: { app: 'db' } }, parameters: { loss_percent: 30 } }],
  ['stress the cpu of the worker pods at 80% on 2 cores', { chaos_type: 'cpu_stress', target: { labels: { app: 'worker' } }, parameters: { cpu_load_percent: 80, cpu_cores: 2 } }],
  ['batch 파드 CPU 부하 90%를 5분 동안', { chaos_type: 'cpu_stress', target: { labels: { app: 'batch' } }, parameters: { cpu_load_percent: 90, duration_seconds: 300 }, safety: { timeout_seconds: 420 } }],
  ['fill 512MB of memory in the cache pods', { chaos_type: 'memory_stress', target: { labels: { app: 'cache' } }, parameters: { memory_mb: 512 } }],
  ['memory pressure of 1GB on app=search for 1 minute', { chaos_type: 'memory_stress', target: { labels: { app: 'search' } }, parameters: { memory_mb: 1024, duration_seconds: 60 } }],
  ['cache 파드 메모리 부하 2기가', { chaos_type: 'memory_stress', target: { labels: { app: 'cache' } }, parameters: { memory_mb: 2048 } }],
  ['stop the ec2 instance i-0abc12345678def00 in us-east-1', { chaos_type: 'ec2_stop', target: { provider: 'aws', instance_ids: ['i-0abc12345678def00'], region: 'us-east-1' } }],
  ['stop one instance tagged env=staging and start it again after 2 minutes', { chaos_type: 'ec2_stop', target: { tags: { env: 'staging' }, selection: 'COUNT(1)' }, parameters: { start_after_seconds: 120 } }],
  ['force stop ec2 instances tagged team=search', { chaos_type: 'ec2_stop', target: { tags: { team: 'search' } }, parameters: { force: true } }],
  ['env=staging 태그의 EC2 인스턴스를 중지', { chaos_type: 'ec2_stop', target: { tags: { env: 'staging' } } }],
  ['fail over the orders-db aurora cluster', { chaos_type: 'rds_failover', target: { db_cluster_identifier: 'orders-db' } }],
  ['rds failover of cluster Billing-Prod and fail back afterwards', { chaos_type: 'rds_failover', target: { db_cluster_identifier: 'Billing-Prod' }, parameters: { fail_back: true } }],
  ['orders-db 클러스터 페일오버', { chaos_type: 'rds_failover', target: { db_cluster_identifier: 'orders-db' } }],
  ['blackhole the routes of subnet-0abc12345 for 1 minute', { chaos_type: 'route_blackhole', target: { subnet_ids: ['subnet-0abc12345'] }, parameters: { duration_seconds: 60 } }],
  ['black hole 10.0.0.0/16 in route table rtb-0123abcd45', { chaos_type: 'route_blackhole', target: { route_table_id: 'rtb-0123abcd45' }, parameters: { destination_cidr: '10.0.0.0/16' } }],
  ['tier=app 태그 서브넷을 블랙홀', { chaos_type: 'route_blackhole', target: { tags: { tier: 'app' } } }],
  ['kill one web pod and check https://shop.example.com/health stays up', { chaos_type: 'pod_delete', probes: [{ type: 'http', properties: { url: 'https://shop.example.com/health' } }] }],
];

describe('natural language → experiment, offline', () => {
  it.each(CASES)('%s', (prompt, expected) => {
    const { experiment, understood } = experimentFromText(prompt);

    expect(experiment).toMatchObject(expected);
    // What it wrote is a valid request under the API's own model.
    expect(() => parseExperiment(experiment)).not.toThrow();
    expect(understood.length).toBeGreaterThan(1);
  });

  it('covers every chaos type in both languages', () => {
    const types = new Set(CASES.map(([, expected]) => expected.chaos_type));
    const korean = new Set(CASES.filter(([prompt]) => /[가-힣]/.test(prompt)).map(([, expected]) => expected.chaos_type));

    expect([...types].sort()).toEqual(['cpu_stress', 'ec2_stop', 'memory_stress', 'network_latency', 'network_loss', 'pod_delete', 'rds_failover', 'route_blackhole']);
    expect([...korean].sort()).toEqual([...types].sort());
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it('says what each phrase was read as, and what it assumed', () => {
    const { understood, assumptions } = experimentFromText('nginx pod 하나를 랜덤으로 죽이고 복구 시간 관찰');

    expect(understood).toEqual([
      '"죽이" → chaos_type pod_delete',
      '"nginx pod" → target.labels.app nginx',
      '"하나를" → target.selection COUNT(1)',
      '"랜덤" → picked at random among the matching targets (as every selection is)',
      '"복구 시간 관찰" → observe recovery: ROLLBACK records how long the pods took to come back',
    ]);
    expect(assumptions).toEqual([
      'no namespace given: target.namespace default',
      'no duration given: observe for 30 s (the default duration_seconds)',
      'no URL given: no probe checks the steady state; add one to `probes` (an http probe on the service) to learn something',
    ]);
  });

  it("sets the blast radius a selection needs when the topology says how large the pool is, and says so", () => {
    const sandbox = { sandbox: { available: true, labels: { app: 'demo' }, replicas: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }] } };
    // The README's sentence: one of the sandbox's 3 replicas needs 0.34; the default 0.3 allows none.
    const latency = experimentFromText('add 300ms latency to one sandbox replica for 5 seconds', sandbox);
    expect(latency.experiment.safety).toEqual({ max_blast_radius: 0.34 });
    expect(latency.assumptions).toContain('safety.max_blast_radius 0.34: 1 of the 3 matching target(s) the topology shows (the default 0.3 allows 0)');
    expect(parseExperiment(latency.experiment).safety.max_blast_radius).toBe(0.34);
    expect(experimentFromText('kill two sandbox replicas', sandbox).experiment.safety).toEqual({ max_blast_radius: 0.67 });
    // Without a topology (or one that says nothing of the pool) the default stays, as before.
    expect(experimentFromText('add 300ms latency to one sandbox replica for 5 seconds').experiment.safety).toBeUndefined();
    expect(experimentFromText('add 300ms latency to one sandbox replica for 5 seconds', { sandbox: { available: true } }).experiment.safety).toBeUndefined();

    // A deployment's replicas, in the namespace named; a large pool needs no more than the default.
    const kubernetes = (replicas: number) => ({
      kubernetes: { deployments: [{ namespace: 'shop', name: 'web', labels: { app: 'web' }, selector: { app: 'web' }, replicas, ready_replicas: replicas }] },
    });
    expect(experimentFromText('delete one pod of app=web in namespace shop', kubernetes(2)).experiment.safety).toEqual({ max_blast_radius: 0.5 });
    expect(experimentFromText('delete one pod of app=web in namespace shop', kubernetes(10)).experiment.safety).toBeUndefined();
    expect(experimentFromText('delete one pod of app=web in namespace other', kubernetes(2)).experiment.safety).toBeUndefined();
    // ALL keeps the cap's meaning: raised only as far as one target.
    expect(experimentFromText('delete all pods of app=web in namespace shop', kubernetes(2)).experiment.safety).toEqual({ max_blast_radius: 0.5 });
  });

  it.each([
    ['', 'the prompt is empty'],
    ['make things more resilient please', 'which fault to inject'],
    ['kill some pods', 'which pods'],
    ['서버를 죽여', 'which pods'],
    ['stop an ec2 instance', 'which instances'],
    ['fail over the database', 'which database'],
    ['blackhole the network', 'which subnets'],
  ])('says what it could not understand in "%s"', (prompt, missing) => {
    const error = (() => {
      try {
        experimentFromText(prompt);
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();

    expect(error).toBeInstanceOf(NotUnderstoodError);
    expect((error as NotUnderstoodError).issues).toEqual([{ field: 'prompt', message: expect.stringMatching(new RegExp(`^could not understand: ${missing}`)) }]);
  });
});
