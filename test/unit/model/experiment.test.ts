/**
 * The experiment model: the ChaosDuck request bodies from the seed README parse with ChaosDuck's defaults, and every bad
 * field is named (by its exact path) in one ValidationError.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError, type FieldIssue } from '../../../shared/errors.js';
import { AWS_CHAOS_TYPES, KUBERNETES_CHAOS_TYPES, type FaultSpec } from '../../../shared/model/experiment.js';
import { parseExperimentText } from '../../../shared/model/document.js';
import { parseExperiment } from '../../../shared/model/parse.js';

// ---- helpers ---------------------------------------------------------------------------------------------------------

const DEFAULT_SAFETY = {
  timeout_seconds: 120,
  max_blast_radius: 0.3,
  require_confirmation: false,
  dry_run: false,
  health_check_interval: 5,
  health_check_failure_threshold: 3,
};

function fixture(name: string): string {
  return readFileSync(new URL(`../../support/fixtures/experiments/${name}`, import.meta.url), 'utf8');
}

/** Runs `parse` and returns the ValidationError it throws; fails the test if it parses or throws anything else. */
function validationError(parse: () => unknown): ValidationError {
  let result: unknown;
  try {
    result = parse();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`expected a ValidationError, but it parsed to ${JSON.stringify(result)}`);
}

function invalid(input: unknown): ValidationError {
  return validationError(() => parseExperiment(input));
}

function fields(error: ValidationError): string[] {
  return error.issues.map((issue: FieldIssue) => issue.field);
}

/** A valid pod_delete body to break one field at a time. */
function podDelete(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'pod-kill-test', chaos_type: 'pod_delete', target: { labels: { app: 'nginx' } }, ...extra };
}

function withTarget(chaosType: string, target: Record<string, unknown>): Record<string, unknown> {
  return { name: `${chaosType}-test`, chaos_type: chaosType, target };
}

function withProbes(probes: unknown[]): Record<string, unknown> {
  return podDelete({ probes });
}

const httpProbe = (name: string, properties: Record<string, unknown> = {}) => ({
  name,
  type: 'http',
  properties: { url: 'http://localhost:8080/health', ...properties },
});

// ---- the seed README's bodies ----------------------------------------------------------------------------------------

describe('seed README request bodies', () => {
  it('parses the pod_delete body and fills the safety fields it leaves out', () => {
    // Prepare
    const body = {
      name: 'pod-kill-test',
      chaos_type: 'pod_delete',
      target: { namespace: 'default', labels: { app: 'nginx' } },
      safety: { timeout_seconds: 60, max_blast_radius: 1 },
    };

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec).toEqual({
      name: 'pod-kill-test',
      description: '',
      chaos_type: 'pod_delete',
      target: { provider: 'kubernetes', namespace: 'default', labels: { app: 'nginx' }, selection: 'COUNT(1)' },
      parameters: { allow_unmanaged: false, duration_seconds: 30 },
      safety: { ...DEFAULT_SAFETY, timeout_seconds: 60, max_blast_radius: 1 },
      probes: [],
      ai_enabled: true,
    });
  });

  it('parses the network_latency dry-run body with every default filled', () => {
    // Prepare
    const body = {
      name: 'network-latency-test',
      chaos_type: 'network_latency',
      target: { namespace: 'default', labels: { app: 'web' } },
      parameters: { latency_ms: 200, duration_seconds: 30 },
    };

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec).toEqual({
      name: 'network-latency-test',
      description: '',
      chaos_type: 'network_latency',
      target: { provider: 'kubernetes', namespace: 'default', labels: { app: 'web' }, selection: 'COUNT(1)' },
      parameters: { latency_ms: 200, jitter_ms: 0, duration_seconds: 30 },
      safety: DEFAULT_SAFETY,
      probes: [],
      ai_enabled: true,
    });
  });

  it('parses the latency-redis body with latency_ms 500', () => {
    // Prepare
    const body = {
      name: 'latency-redis',
      chaos_type: 'network_latency',
      target: { namespace: 'default', labels: { app: 'redis' } },
      parameters: { latency_ms: 500, duration_seconds: 30 },
    };

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.chaos_type).toBe('network_latency');
    expect(spec.parameters).toEqual({ latency_ms: 500, jitter_ms: 0, duration_seconds: 30 });
    expect(spec.target).toMatchObject({ provider: 'kubernetes', labels: { app: 'redis' }, selection: 'COUNT(1)' });
  });

  it('parses the cpu_stress body with cpu_cores', () => {
    // Prepare
    const body = {
      name: 'cpu-stress-nginx',
      chaos_type: 'cpu_stress',
      target: { namespace: 'default', labels: { app: 'nginx' } },
      parameters: { cpu_cores: 1, duration_seconds: 30 },
    };

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.parameters).toEqual({ cpu_cores: 1, cpu_load_percent: 100, duration_seconds: 30 });
    expect(spec.target).toEqual({ provider: 'kubernetes', namespace: 'default', labels: { app: 'nginx' }, selection: 'COUNT(1)' });
    expect(spec.safety).toEqual(DEFAULT_SAFETY);
  });

  it('parses the ec2_stop body (with a real-looking instance id) as an AWS target', () => {
    // Prepare: the README writes the placeholder "i-xxxxxxxxx"; a real id is hex (see the next test).
    const body = {
      name: 'ec2-stop-test',
      chaos_type: 'ec2_stop',
      target: { instance_ids: ['i-0123456789abcdef0'] },
      safety: { timeout_seconds: 60 },
    };

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec).toEqual({
      name: 'ec2-stop-test',
      description: '',
      chaos_type: 'ec2_stop',
      target: { provider: 'aws', instance_ids: ['i-0123456789abcdef0'], selection: 'COUNT(1)' },
      parameters: { force: false, duration_seconds: 30 },
      safety: { ...DEFAULT_SAFETY, timeout_seconds: 60 },
      probes: [],
      ai_enabled: true,
    });
  });

  it('rejects the README placeholder instance id "i-xxxxxxxxx" at target.instance_ids[0]', () => {
    // Prepare
    const body = { name: 'ec2-stop-test', chaos_type: 'ec2_stop', target: { instance_ids: ['i-xxxxxxxxx'] } };

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.instance_ids[0]', message: 'not an EC2 instance id' }]);
  });

  it('parses the rds_failover body with db_instance_identifier as an AWS target', () => {
    // Prepare
    const body = { name: 'rds-failover-test', chaos_type: 'rds_failover', target: { db_instance_identifier: 'test-db' } };

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.target).toEqual({ provider: 'aws', db_instance_identifier: 'test-db', selection: 'COUNT(1)' });
    expect(spec.parameters).toEqual({ duration_seconds: 30, fail_back: false });
    expect(spec.safety).toEqual(DEFAULT_SAFETY);
  });
});

describe('defaults', () => {
  it.each(KUBERNETES_CHAOS_TYPES)('%s defaults to provider kubernetes, namespace default, COUNT(1)', (chaosType) => {
    // Prepare
    const body = withTarget(chaosType, { labels: { app: 'nginx' } });

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.target).toEqual({ provider: 'kubernetes', namespace: 'default', labels: { app: 'nginx' }, selection: 'COUNT(1)' });
    expect(spec.safety).toEqual(DEFAULT_SAFETY);
    expect((spec.parameters as { duration_seconds: number }).duration_seconds).toBe(30);
  });

  const awsTargets: Record<(typeof AWS_CHAOS_TYPES)[number], Record<string, unknown>> = {
    ec2_stop: { tags: { team: 'payments' } },
    rds_failover: { db_cluster_identifier: 'orders-cluster' },
    route_blackhole: { route_table_id: 'rtb-0123456789abcdef0' },
  };
  it.each(AWS_CHAOS_TYPES)('%s defaults to provider aws and COUNT(1)', (chaosType) => {
    // Prepare
    const body = withTarget(chaosType, awsTargets[chaosType]);

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.target).toEqual({ provider: 'aws', ...awsTargets[chaosType], selection: 'COUNT(1)' });
    expect(spec.safety).toEqual(DEFAULT_SAFETY);
  });

  it('fills probe defaults: mode continuous, GET, status 200, 5 s timeout', () => {
    // Prepare
    const body = withProbes([httpProbe('web')]);

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.probes).toEqual([
      {
        name: 'web',
        type: 'http',
        mode: 'continuous',
        properties: { url: 'http://localhost:8080/health', method: 'GET', headers: {}, timeout_ms: 5000, expected_status: 200 },
      },
    ]);
  });

  it('fills cmd probe defaults: mode continuous, exit code 0, 10 s timeout', () => {
    // Prepare
    const body = withProbes([{ name: 'ping', type: 'cmd', properties: { command: ['redis-cli', 'ping'] } }]);

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.probes).toEqual([
      {
        name: 'ping',
        type: 'cmd',
        mode: 'continuous',
        properties: { command: ['redis-cli', 'ping'], env: {}, timeout_ms: 10_000, expected_exit_code: 0 },
      },
    ]);
  });

  it('hands each parse its own default objects, so changing one spec cannot change the next', () => {
    // Prepare
    const first = parseExperiment(podDelete());

    // Act
    first.safety.dry_run = true;
    first.safety.max_blast_radius = 1;
    (first.parameters as { duration_seconds: number }).duration_seconds = 999;
    first.probes.push(httpProbe('leak') as never);
    const second = parseExperiment(podDelete());

    // Assess
    expect(second.safety).toEqual(DEFAULT_SAFETY);
    expect((second.parameters as { duration_seconds: number }).duration_seconds).toBe(30);
    expect(second.probes).toEqual([]);
  });

  it('does not modify the input it is given', () => {
    // Prepare
    const body = podDelete();
    const before = structuredClone(body);

    // Act
    parseExperiment(body);

    // Assess
    expect(body).toEqual(before);
  });

  it('accepts a duration just shorter than the timeout', () => {
    // Prepare
    const body = podDelete({ parameters: { duration_seconds: 59 }, safety: { timeout_seconds: 60 } });

    // Act
    const spec: FaultSpec = parseExperiment(body);

    // Assess
    expect((spec.parameters as { duration_seconds: number }).duration_seconds).toBe(59);
  });

  it('refuses a duration equal to the timeout, which leaves no time for the phases before OBSERVE', () => {
    // Prepare
    const body = podDelete({ parameters: { duration_seconds: 60 }, safety: { timeout_seconds: 60 } });

    // Act
    const error = validationError(() => parseExperiment(body));

    // Assess
    expect(error.issues.map((i) => i.field)).toEqual(['parameters.duration_seconds']);
  });
});

// ---- one bad field at a time -----------------------------------------------------------------------------------------

describe('name and chaos_type', () => {
  it('names a missing name', () => {
    // Prepare
    const body = { chaos_type: 'pod_delete', target: { labels: { app: 'nginx' } } };

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'name', message: expect.stringMatching(/expected string/) }]);
    expect(error.message).toMatch(/^Invalid experiment: name: /);
  });

  it.each(['pod kill; rm -rf /', '<script>', 'naïve|name'])('rejects the name %j for its characters', (name) => {
    // Prepare
    const body = podDelete({ name });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'name', message: 'may hold letters, digits, spaces and _ . : @ / - only' }]);
  });

  it('rejects a name longer than 128 characters', () => {
    // Prepare
    const body = podDelete({ name: 'a'.repeat(129) });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'name', message: expect.stringMatching(/<=128/) }]);
  });

  it('names an unknown chaos_type and lists the known ones', () => {
    // Prepare
    const body = podDelete({ chaos_type: 'pod_kill' });

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error)).toEqual(['chaos_type']);
    const message = error.issues[0]?.message ?? '';
    for (const known of [...KUBERNETES_CHAOS_TYPES, ...AWS_CHAOS_TYPES]) expect(message).toContain(known);
  });

  it('names a missing chaos_type', () => {
    // Prepare
    const body = { name: 'x', target: { labels: { app: 'nginx' } } };

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error)).toEqual(['chaos_type']);
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'pod_delete'],
  ])('rejects %s as the whole experiment at the root', (_, input) => {
    // Act
    const error = invalid(input);

    // Assess
    expect(error.issues).toEqual([{ field: '', message: expect.stringMatching(/expected object/) }]);
    expect(error.message).toContain('(root)');
  });
});

describe('safety', () => {
  it.each([
    ['timeout_seconds', 0, />=1/],
    ['timeout_seconds', 86_401, /<=86400/],
    ['timeout_seconds', 1.5, /expected int/],
    ['timeout_seconds', '60', /expected number/],
    ['max_blast_radius', 0, />0/],
    ['max_blast_radius', -0.1, />0/],
    ['max_blast_radius', 1.01, /<=1/],
    ['require_confirmation', 'yes', /expected boolean/],
    ['dry_run', 1, /expected boolean/],
    ['health_check_interval', 0, />=1/],
    ['health_check_interval', 3601, /<=3600/],
    ['health_check_interval', 2.5, /expected int/],
    ['health_check_failure_threshold', 0, />=1/],
    ['health_check_failure_threshold', 1001, /<=1000/],
  ])('rejects safety.%s = %j', (key, value, message) => {
    // Prepare
    const body = podDelete({ safety: { [key]: value } });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: `safety.${key}`, message: expect.stringMatching(message) }]);
  });

  it.each([
    ['timeout_seconds', 1],
    ['timeout_seconds', 86_400],
    ['max_blast_radius', 0.01],
    ['max_blast_radius', 1],
    ['health_check_interval', 3600],
    ['health_check_failure_threshold', 1000],
  ])('accepts the boundary safety.%s = %j', (key, value) => {
    // Prepare: a 0 s observation, so that even a 1 s timeout leaves it room.
    const body = podDelete({ safety: { [key]: value }, parameters: { duration_seconds: 0 } });

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.safety[key as keyof typeof spec.safety]).toBe(value);
  });

  it('names parameters.duration_seconds when it is longer than safety.timeout_seconds', () => {
    // Prepare
    const body = podDelete({ parameters: { duration_seconds: 200 } });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([
      { field: 'parameters.duration_seconds', message: '200s is not shorter than safety.timeout_seconds (120s); shorten parameters.duration_seconds or raise the timeout' },
    ]);
  });

  it('holds the default 30 s duration against a shorter timeout too', () => {
    // Prepare
    const body = podDelete({ safety: { timeout_seconds: 10 } });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([
      { field: 'parameters.duration_seconds', message: '30s (the default) is not shorter than safety.timeout_seconds (10s); shorten parameters.duration_seconds or raise the timeout' },
    ]);
  });
});

describe('unknown keys', () => {
  it.each([
    ['top level', podDelete({ blast_radius: 0.5 }), 'blast_radius'],
    ['parameters', podDelete({ chaos_type: 'network_latency', parameters: { latncy_ms: 200 } }), 'parameters.latncy_ms'],
    ['safety', podDelete({ safety: { timout_seconds: 60 } }), 'safety.timout_seconds'],
    ['target', podDelete({ target: { labels: { app: 'nginx' }, namepsace: 'prod' } }), 'target.namepsace'],
    ['an AWS-only key on a workload target', podDelete({ target: { labels: { app: 'x' }, instance_ids: ['i-01234567'] } }), 'target.instance_ids'],
    ['a probe', withProbes([{ ...httpProbe('web'), timeout: 5 }]), 'probes[0].timeout'],
    ['probe properties', withProbes([httpProbe('web', { urll: 'http://x' })]), 'probes[0].properties.urll'],
    ['ec2 filters', withTarget('ec2_stop', { tags: { a: 'b' }, filters: [{ name: 'n', values: ['v'], op: 'eq' }] }), 'target.filters[0].op'],
  ])('names an unknown key in %s by its own path', (_, body, field) => {
    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field, message: 'unknown field' }]);
  });

  it('names every unknown key of one object', () => {
    // Prepare
    const body = podDelete({ chaos_type: 'network_latency', parameters: { latncy_ms: 200, jiter_ms: 5 } });

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error).sort()).toEqual(['parameters.jiter_ms', 'parameters.latncy_ms']);
  });
});

describe('workload targets', () => {
  it('rejects empty labels', () => {
    // Prepare
    const body = podDelete({ target: { labels: {} } });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.labels', message: 'at least one label (or pod_names) is needed to select targets' }]);
  });

  it('rejects missing labels', () => {
    // Prepare
    const body = podDelete({ target: { namespace: 'default' } });

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error)).toEqual(['target.labels']);
  });

  it('names a bad label key with its own reason', () => {
    // Prepare
    const body = podDelete({ target: { labels: { '-app': 'nginx' } } });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.labels.-app', message: 'not a valid label key' }]);
  });

  it.each(['Prod_NS', 'UPPER', '-lead', 'trail-', 'a.b'])('rejects the namespace %j', (namespace) => {
    // Prepare
    const body = podDelete({ target: { labels: { app: 'nginx' }, namespace } });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.namespace', message: 'not a valid namespace name' }]);
  });

  it('rejects a namespace longer than 63 characters', () => {
    // Prepare
    const body = podDelete({ target: { labels: { app: 'nginx' }, namespace: 'a'.repeat(64) } });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.namespace', message: expect.stringMatching(/<=63/) }]);
  });

  it.each([
    ['SOME', '"SOME" is not ALL, COUNT(n) or PERCENT(n)'],
    ['count(1)', '"count(1)" is not ALL, COUNT(n) or PERCENT(n)'],
    ['COUNT(-1)', '"COUNT(-1)" is not ALL, COUNT(n) or PERCENT(n)'],
    ['COUNT(0)', 'COUNT(n) needs n >= 1'],
    ['PERCENT(0)', 'PERCENT(n) needs 0 < n <= 100'],
    ['PERCENT(101)', 'PERCENT(n) needs 0 < n <= 100'],
    ['PERCENT(100.5)', 'PERCENT(n) needs 0 < n <= 100'],
  ])('rejects the selection %j', (selection, message) => {
    // Prepare
    const body = podDelete({ target: { labels: { app: 'nginx' }, selection } });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.selection', message }]);
  });

  it.each(['ALL', 'COUNT(1)', 'COUNT(25)', 'PERCENT(100)', 'PERCENT(12.5)'])('accepts the selection %j', (selection) => {
    // Prepare
    const body = podDelete({ target: { labels: { app: 'nginx' }, selection } });

    // Act
    const spec = parseExperiment(body);

    // Assess
    expect(spec.target.selection).toBe(selection);
  });
});

describe('AWS targets', () => {
  it('requires instance_ids or tags for ec2_stop', () => {
    // Prepare
    const body = withTarget('ec2_stop', { region: 'eu-west-1' });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.instance_ids', message: 'give instance_ids or tags to select instances' }]);
  });

  it('rejects an empty instance_ids list', () => {
    // Prepare
    const body = withTarget('ec2_stop', { instance_ids: [] });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.instance_ids', message: expect.stringMatching(/>=1/) }]);
  });

  it('names the bad instance id by its index', () => {
    // Prepare
    const body = withTarget('ec2_stop', { instance_ids: ['i-0123456789abcdef0', 'i-XYZ'] });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.instance_ids[1]', message: 'not an EC2 instance id' }]);
  });

  it('rejects a kubernetes provider on an AWS fault', () => {
    // Prepare
    const body = withTarget('ec2_stop', { instance_ids: ['i-0123456789abcdef0'], provider: 'kubernetes' });

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error)).toEqual(['target.provider']);
  });

  it.each([
    ['both cluster and instance ids', { db_cluster_identifier: 'orders', db_instance_identifier: 'orders-1' }],
    ['instance id and tags', { db_instance_identifier: 'orders-1', tags: { team: 'x' } }],
    ['nothing', {}],
  ])('rds_failover rejects %s', (_, target) => {
    // Prepare
    const body = withTarget('rds_failover', target);

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([
      { field: 'target.db_cluster_identifier', message: 'give exactly one of db_cluster_identifier, db_instance_identifier or tags' },
    ]);
  });

  it('rejects a DB identifier that starts with a digit', () => {
    // Prepare
    const body = withTarget('rds_failover', { db_instance_identifier: '1db' });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.db_instance_identifier', message: 'not a DB identifier' }]);
  });

  it('requires a selector for route_blackhole', () => {
    // Prepare
    const body = withTarget('route_blackhole', { region: 'eu-west-1' });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.route_table_id', message: 'give route_table_id, subnet_ids or tags' }]);
  });

  it.each(['rtb-zz', 'rtb-1234', 'rt-0123456789abcdef0'])('rejects the route table id %j', (routeTableId) => {
    // Prepare
    const body = withTarget('route_blackhole', { route_table_id: routeTableId });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.route_table_id', message: 'not a route table id' }]);
  });

  it('names a bad subnet id by its index', () => {
    // Prepare
    const body = withTarget('route_blackhole', { subnet_ids: ['subnet-0123456789abcdef0', 'subnet-12'] });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.subnet_ids[1]', message: 'not a subnet id' }]);
  });

  it.each(['Europe', 'eu-west', 'EU-WEST-1', 'eu-west-12'])('rejects the region %j', (region) => {
    // Prepare
    const body = withTarget('ec2_stop', { tags: { team: 'x' }, region });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.region', message: 'not an AWS region such as eu-west-1' }]);
  });

  it.each(['eu-west-1', 'us-gov-west-1', 'ap-southeast-2'])('accepts the region %j', (region) => {
    // Act
    const spec = parseExperiment(withTarget('ec2_stop', { tags: { team: 'x' }, region }));

    // Assess
    expect(spec.target).toMatchObject({ region });
  });

  it.each([
    'arn:aws:iam::123:role/chaos',
    'arn:aws:iam::123456789012:user/chaos',
    'arn:aws:sts::123456789012:assumed-role/chaos/session',
    'chaos-role',
  ])('rejects the role_arn %j', (roleArn) => {
    // Prepare
    const body = withTarget('rds_failover', { tags: { team: 'x' }, role_arn: roleArn });

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'target.role_arn', message: 'not an IAM role ARN' }]);
  });

  it('accepts a role ARN in another partition', () => {
    // Act
    const spec = parseExperiment(
      withTarget('route_blackhole', { subnet_ids: ['subnet-01234567'], role_arn: 'arn:aws-cn:iam::123456789012:role/ops/chaos' }),
    );

    // Assess
    expect(spec.target).toMatchObject({ role_arn: 'arn:aws-cn:iam::123456789012:role/ops/chaos' });
  });
});

describe('probes', () => {
  it('names the second of two probes with the same name', () => {
    // Prepare
    const body = withProbes([httpProbe('health'), httpProbe('health')]);

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'probes[1].name', message: 'duplicate probe name "health"' }]);
  });

  it('names every repeat, not only the first', () => {
    // Prepare
    const body = withProbes([httpProbe('a'), httpProbe('b'), httpProbe('a'), httpProbe('b')]);

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error)).toEqual(['probes[2].name', 'probes[3].name']);
  });

  it.each(['ftp://example.com/health', 'not a url', 'localhost:8080/health', 'file:///etc/passwd'])(
    'rejects the probe url %j',
    (url) => {
      // Prepare
      const body = withProbes([httpProbe('web', { url })]);

      // Act
      const error = invalid(body);

      // Assess
      expect(error.issues).toEqual([{ field: 'probes[0].properties.url', message: 'must be an http or https URL' }]);
    },
  );

  it('rejects an invalid regular expression in body_matches', () => {
    // Prepare
    const body = withProbes([httpProbe('web', { body_matches: '("status"' })]);

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'probes[0].properties.body_matches', message: 'not a valid regular expression' }]);
  });

  it('rejects an invalid regular expression in stdout_matches', () => {
    // Prepare
    const body = withProbes([{ name: 'ping', type: 'cmd', properties: { command: 'true', stdout_matches: '[' } }]);

    // Act
    const error = invalid(body);

    // Assess
    expect(error.issues).toEqual([{ field: 'probes[0].properties.stdout_matches', message: 'not a valid regular expression' }]);
  });

  it('names an unknown probe type and lists the known ones', () => {
    // Prepare
    const body = withProbes([httpProbe('web'), { name: 'pods', type: 'graphite', properties: {} }]);

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error)).toEqual(['probes[1].type']);
    expect(error.issues[0]?.message).toMatch(/'http' \| 'cmd'/);
  });

  it('rejects an unknown probe mode', () => {
    // Prepare
    const body = withProbes([{ ...httpProbe('web'), mode: 'sometimes' }]);

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error)).toEqual(['probes[0].mode']);
    expect(error.issues[0]?.message).toContain('continuous');
  });

  it('takes a probe weight for the resilience score, and refuses one that is not positive', () => {
    // Prepare
    const weighted = withProbes([{ ...httpProbe('web'), weight: 3 }]);
    const zero = withProbes([{ ...httpProbe('web'), weight: 0 }]);

    // Act
    const spec = parseExperiment(weighted);
    const error = invalid(zero);

    // Assess
    expect(spec.probes[0]?.weight).toBe(3);
    expect(fields(error)).toEqual(['probes[0].weight']);
  });

  it('rejects an expected_status outside 100-599', () => {
    // Prepare
    const body = withProbes([httpProbe('web', { expected_status: [200, 700] })]);

    // Act
    const error = invalid(body);

    // Assess
    expect(fields(error)).toEqual(['probes[0].properties.expected_status[1]']);
  });
});

describe('several bad fields at once', () => {
  it('names all of them in one error', () => {
    // Prepare
    const body = {
      name: 'bad name!',
      chaos_type: 'network_latency',
      target: { namespace: 'Prod', labels: { app: 'web' }, selection: 'PERCENT(0)' },
      parameters: { latncy_ms: 200 },
      safety: { max_blast_radius: 2, timeout_seconds: 0 },
      probes: [httpProbe('web', { url: 'ftp://x' })],
      colour: 'red',
    };

    // Act
    const error = invalid(body);

    // Assess
    const expected = [
      'name',
      'target.namespace',
      'target.selection',
      'parameters.latncy_ms',
      'safety.max_blast_radius',
      'safety.timeout_seconds',
      'probes[0].properties.url',
      'colour',
    ];
    expect(fields(error).sort()).toEqual([...expected].sort());
    for (const field of expected) expect(error.message).toContain(`${field}: `);
  });
});

// ---- files ---------------------------------------------------------------------------------------------------------

describe('parseExperimentText', () => {
  it('parses the YAML fixture', () => {
    // Prepare
    const text = fixture('network-latency.yaml');

    // Act
    const spec = parseExperimentText(text, 'network-latency.yaml');

    // Assess
    expect(spec).toEqual({
      name: 'latency-redis',
      description: 'Add 500 ms to every packet of one redis pod and watch the web tier.',
      chaos_type: 'network_latency',
      target: { provider: 'kubernetes', namespace: 'default', labels: { app: 'redis' }, selection: 'PERCENT(50)' },
      parameters: { latency_ms: 500, jitter_ms: 0, duration_seconds: 30 },
      safety: { ...DEFAULT_SAFETY, timeout_seconds: 60, max_blast_radius: 0.5, dry_run: true },
      probes: [
        {
          name: 'web-health',
          type: 'http',
          mode: 'continuous',
          properties: {
            url: 'http://localhost:8080/health',
            method: 'GET',
            headers: {},
            timeout_ms: 5000,
            expected_status: [200, 204],
            body_matches: '"status":\\s*"ok"',
          },
        },
        {
          name: 'redis-ping',
          type: 'cmd',
          mode: 'eot',
          properties: { command: ['redis-cli', 'ping'], env: {}, timeout_ms: 10_000, expected_exit_code: 0, stdout_contains: 'PONG' },
        },
      ],
      ai_enabled: true,
    });
  });

  it('parses the JSON fixture', () => {
    // Prepare
    const text = fixture('ec2-stop.json');

    // Act
    const spec = parseExperimentText(text, 'ec2-stop.json');

    // Assess
    expect(spec).toEqual({
      name: 'ec2-stop-test',
      description: '',
      chaos_type: 'ec2_stop',
      target: {
        provider: 'aws',
        instance_ids: ['i-0123456789abcdef0', 'i-0fedcba9876543210'],
        region: 'eu-west-1',
        role_arn: 'arn:aws:iam::123456789012:role/chaosduck-injector',
        selection: 'COUNT(1)',
      },
      parameters: { force: true, duration_seconds: 45 },
      safety: { ...DEFAULT_SAFETY, timeout_seconds: 60, max_blast_radius: 0.5, require_confirmation: true },
      probes: [],
      ai_enabled: true,
    });
  });

  it('parses JSON that starts with a UTF-8 byte-order mark', () => {
    // Prepare
    const text = `\uFEFF${fixture('ec2-stop.json')}`;

    // Act
    const spec = parseExperimentText(text, 'ec2-stop.json');

    // Assess
    expect(spec.name).toBe('ec2-stop-test');
  });

  it.each([
    ['invalid-syntax.yaml', /at line \d+, column \d+/],
    ['invalid-syntax.json', /JSON/],
  ])('reports %s as a file that is not valid JSON or YAML', (name, detail) => {
    // Prepare
    const text = fixture(name);

    // Act
    const error = validationError(() => parseExperimentText(text, name));

    // Assess
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.field).toBe('');
    expect(error.issues[0]?.message).toContain(`${name} is not valid JSON or YAML: `);
    expect(error.issues[0]?.message).toMatch(detail);
    expect(error.message).toMatch(/^Invalid file: \(root\): /);
  });

  it('rejects YAML with a repeated key', () => {
    // Prepare
    const text = 'name: a\nname: b\nchaos_type: pod_delete\n';

    // Act
    const error = validationError(() => parseExperimentText(text, 'dup.yaml'));

    // Assess
    expect(error.issues[0]?.message).toMatch(/^dup\.yaml is not valid JSON or YAML: .*unique/s);
  });

  it('names the source "experiment" when none is given', () => {
    // Act
    const error = validationError(() => parseExperimentText('{"name": '));

    // Assess
    expect(error.issues[0]?.message).toMatch(/^experiment is not valid JSON or YAML: /);
  });

  it('validates a well-formed document and names its bad fields', () => {
    // Prepare
    const text = 'name: yaml-test\nchaos_type: pod_delete\ntarget:\n  labels: {app: nginx}\nsafety:\n  timout_seconds: 60\n';

    // Act
    const error = validationError(() => parseExperimentText(text, 'typo.yaml'));

    // Assess
    expect(error.issues).toEqual([{ field: 'safety.timout_seconds', message: 'unknown field' }]);
    expect(error.message).toMatch(/^Invalid experiment: /);
  });

  it('rejects an empty file at the root', () => {
    // Act
    const error = validationError(() => parseExperimentText('', 'empty.yaml'));

    // Assess
    expect(error.issues).toEqual([{ field: '', message: expect.stringMatching(/expected object/) }]);
  });
});
