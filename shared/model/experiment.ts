/**
 * The experiment model: the ChaosDuck request shape, validated with zod at every boundary (REST, CLI, Lambda input).
 *
 * Defaults follow ChaosDuck (timeout 120 s, blast radius 30 %, health check every 5 s, 3 failures to halt).
 * Unknown keys are rejected everywhere: a typo such as `latncy_ms` must fail loudly, not silently run a default.
 */
// A namespace import keeps zod tree-shakable: a named `z` import bundles all of it, locales included (~450 KB).
import * as z from 'zod';
import { MAX_SELECTED_TARGETS, selectionSchema } from './selection.js';

export const KUBERNETES_CHAOS_TYPES = ['pod_delete', 'network_latency', 'network_loss', 'cpu_stress', 'memory_stress'] as const;
export const AWS_CHAOS_TYPES = ['ec2_stop', 'rds_failover', 'route_blackhole'] as const;
export const CHAOS_TYPES = [...KUBERNETES_CHAOS_TYPES, ...AWS_CHAOS_TYPES] as const;
export type ChaosType = (typeof CHAOS_TYPES)[number];

export const PROBE_MODES = ['sot', 'eot', 'continuous', 'on_chaos'] as const;
export type ProbeMode = (typeof PROBE_MODES)[number];

/**
 * Every size a user controls is bounded, so nothing valid can outgrow what the store holds (a DynamoDB item is at
 * most 400 KB, a Step Functions state 256 KB): each string, list and map below, and the whole experiment
 * (`MAX_EXPERIMENT_BYTES`, checked in `parse.ts`).
 */
const MAX_MAP_ENTRIES = 64;
const boundedRecord = <K extends z.core.$ZodRecordKey, V extends z.ZodType>(key: K, value: V, max = MAX_MAP_ENTRIES) =>
  z.record(key, value).refine((map) => Object.keys(map).length <= max, `at most ${max} entries`);

const labelKey = z.string().min(1).max(317).regex(/^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/, 'not a valid label key');
const labels = boundedRecord(labelKey, z.string().max(63));
// 0 is allowed: observe once, then roll back at once (used by no-op experiments and quick smoke checks).
const durationSeconds = z.number().int().min(0).max(86_400).default(30);
const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'not an AWS region such as eu-west-1');
const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'not an IAM role ARN');
// AWS allows 50 tags a resource, so a selector of more could never match.
const awsTags = boundedRecord(z.string().min(1).max(128), z.string().max(256), 50);

// ---- targets -------------------------------------------------------------------------------------------------------

/** Namespaces no experiment may touch: the cluster's own. */
export const PROTECTED_NAMESPACES: readonly string[] = ['kube-system', 'kube-node-lease', 'kube-public'];

/**
 * Pod-like targets. `provider` says where they live: a Kubernetes cluster (the default, as in the seed examples) or
 * the local sandbox service that the embedded runtime runs for newcomers and tests.
 */
const workloadTarget = z
  .strictObject({
    provider: z.string().max(63).regex(/^[a-z][a-z0-9_-]*$/, 'not a provider name').default('kubernetes'),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a valid namespace name').max(63).default('default'),
    labels: labels.optional(),
    /** Pods named exactly (replica ids in the sandbox): the user's own choice, so `max_blast_radius` does not cap it. */
    pod_names: z
      .array(z.string().max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'not a pod name'))
      .min(1)
      .max(MAX_SELECTED_TARGETS)
      .optional(),
    field_selectors: z.string().max(1024).optional(),
    cluster: z.string().min(1).max(256).optional(),
    selection: selectionSchema,
  })
  .refine((t) => t.pod_names !== undefined || (t.labels !== undefined && Object.keys(t.labels).length > 0), {
    message: 'at least one label (or pod_names) is needed to select targets',
    path: ['labels'],
  });

const awsCommon = {
  region: awsRegion.optional(),
  role_arn: roleArn.optional(),
  selection: selectionSchema,
};

const ec2Target = z
  .strictObject({
    provider: z.literal('aws').default('aws'),
    instance_ids: z.array(z.string().regex(/^i-[0-9a-f]{8,17}$/, 'not an EC2 instance id')).min(1).max(MAX_SELECTED_TARGETS).optional(),
    tags: awsTags.optional(),
    filters: z
      .array(z.strictObject({ name: z.string().min(1).max(256), values: z.array(z.string().max(256)).min(1).max(200) }))
      .max(50)
      .optional(),
    ...awsCommon,
  })
  .refine((t) => t.instance_ids !== undefined || t.tags !== undefined, {
    message: 'give instance_ids or tags to select instances',
    path: ['instance_ids'],
  });

const dbIdentifier = z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'not a DB identifier');
const rdsTarget = z
  .strictObject({
    provider: z.literal('aws').default('aws'),
    db_cluster_identifier: dbIdentifier.optional(),
    db_instance_identifier: dbIdentifier.optional(),
    tags: awsTags.optional(),
    ...awsCommon,
  })
  .refine((t) => [t.db_cluster_identifier, t.db_instance_identifier, t.tags].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of db_cluster_identifier, db_instance_identifier or tags',
    path: ['db_cluster_identifier'],
  });

const routeTarget = z
  .strictObject({
    provider: z.literal('aws').default('aws'),
    route_table_id: z.string().regex(/^rtb-[0-9a-f]{8,17}$/, 'not a route table id').optional(),
    subnet_ids: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'not a subnet id')).min(1).max(MAX_SELECTED_TARGETS).optional(),
    tags: awsTags.optional(),
    ...awsCommon,
  })
  .refine((t) => t.route_table_id !== undefined || t.subnet_ids !== undefined || t.tags !== undefined, {
    message: 'give route_table_id, subnet_ids or tags',
    path: ['route_table_id'],
  });

// ---- parameters ----------------------------------------------------------------------------------------------------

const podDeleteParameters = z.strictObject({
  grace_period_seconds: z.number().int().min(0).max(3600).optional(),
  allow_unmanaged: z.boolean().default(false),
  duration_seconds: durationSeconds,
});
/**
 * On Kubernetes these faults run in an ephemeral chaos-agent container: `container` is the pod's container whose
 * namespaces it joins (default: the first), as FIS's `targetContainerName`.
 */
const containerName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a container name').max(63).optional();
/** The network interface the netem qdisc goes on (Kubernetes; the pod's `eth0` by default). */
const networkInterface = z.string().regex(/^[A-Za-z0-9@._-]{1,15}$/, 'not a network interface name').optional();
const latencyParameters = z.strictObject({
  latency_ms: z.number().int().min(1).max(60_000).default(100),
  jitter_ms: z.number().int().min(0).max(60_000).default(0),
  container: containerName,
  interface: networkInterface,
  duration_seconds: durationSeconds,
});
const lossParameters = z.strictObject({
  loss_percent: z.number().gt(0).max(100).default(10),
  container: containerName,
  interface: networkInterface,
  duration_seconds: durationSeconds,
});
const cpuParameters = z.strictObject({
  cpu_cores: z.number().int().min(1).max(256).default(1),
  cpu_load_percent: z.number().int().min(1).max(100).default(100),
  container: containerName,
  duration_seconds: durationSeconds,
});
const memoryParameters = z.strictObject({
  memory_mb: z.number().int().min(1).max(1_048_576).default(256),
  container: containerName,
  duration_seconds: durationSeconds,
});
const ec2StopParameters = z.strictObject({
  force: z.boolean().default(false),
  /** Like FIS's `startInstancesAfterDuration`: start the instances again after this long, before the rollback. */
  start_after_seconds: z.number().int().min(1).max(86_400).optional(),
  duration_seconds: durationSeconds,
});
const rdsFailoverParameters = z.strictObject({
  target_db_instance_identifier: dbIdentifier.optional(),
  /** Fail back to the original writer on rollback; otherwise rollback only verifies the cluster is available. */
  fail_back: z.boolean().default(false),
  duration_seconds: durationSeconds,
});
const routeBlackholeParameters = z.strictObject({
  destination_cidr: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, 'not an IPv4 CIDR').default('0.0.0.0/0'),
  duration_seconds: durationSeconds,
});

// ---- safety and probes ---------------------------------------------------------------------------------------------

export const safetySchema = z.strictObject({
  timeout_seconds: z.number().int().min(1).max(86_400).default(120),
  max_blast_radius: z.number().gt(0).max(1).default(0.3),
  require_confirmation: z.boolean().default(false),
  dry_run: z.boolean().default(false),
  health_check_interval: z.number().int().min(1).max(3600).default(5),
  health_check_failure_threshold: z.number().int().min(1).max(1000).default(3),
});

const probeCommon = {
  name: z.string().min(1).max(128),
  mode: z.enum(PROBE_MODES).default('continuous'),
  /** How much this probe counts in the resilience score's steady-state part, against the others (README). */
  weight: z.number().positive().max(100).optional(),
};

const statusList = z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1).max(500)]);
const regexString = z.string().max(4096).refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

export const httpProbeProperties = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2048),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  headers: boundedRecord(z.string().min(1).max(256), z.string().max(8192)).default({}),
  body: z.string().max(16_384).optional(),
  timeout_ms: z.number().int().min(1).max(300_000).default(5000),
  expected_status: statusList.default(200),
  max_latency_ms: z.number().int().min(1).optional(),
  body_contains: z.string().max(4096).optional(),
  body_matches: regexString.optional(),
});

export const cmdProbeProperties = z.strictObject({
  command: z.union([z.string().min(1).max(8192), z.array(z.string().max(4096)).min(1).max(256)]),
  cwd: z.string().max(4096).optional(),
  env: boundedRecord(z.string().min(1).max(256), z.string().max(8192)).default({}),
  timeout_ms: z.number().int().min(1).max(3_600_000).default(10_000),
  expected_exit_code: z.number().int().min(0).max(255).default(0),
  stdout_contains: z.string().max(4096).optional(),
  stdout_matches: regexString.optional(),
});

export const ALARM_STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];
const alarmState = z.enum(ALARM_STATES, { error: `not an alarm state (${ALARM_STATES.join(', ')})` });

/**
 * CloudWatch's own rule for alarm names: 1 to 255 characters, no ASCII control characters. A name with stray
 * whitespace at either end is almost always a copy-paste slip, and would only ever find no alarm, so it is refused.
 */
const alarmName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\x00-\x1f\x7f]*$/, 'not a CloudWatch alarm name (control characters are not allowed)')
  .refine((s) => s.trim() === s, 'not a CloudWatch alarm name (leading or trailing whitespace)');

/**
 * The `cloudwatch_alarm` probe reads one alarm's state (metric or composite alarm). With `stop_condition: true` it is
 * also a stop condition, as in AWS FIS: an alarm in ALARM during OBSERVE halts the experiment at once and rolls it
 * back, whatever `health_check_failure_threshold` says. Stop conditions are checked on every OBSERVE tick whatever
 * their `mode`; the mode still decides whether they also run before the fault (`sot`) or after the window (`eot`).
 */
export const cloudwatchAlarmProbeProperties = z
  .strictObject({
    alarm_name: alarmName,
    region: awsRegion.optional(),
    role_arn: roleArn.optional(),
    expected_state: z.union([alarmState, z.array(alarmState).min(1).max(ALARM_STATES.length)]).default('OK'),
    stop_condition: z.boolean().default(false),
  })
  .refine((p) => !(p.stop_condition && [p.expected_state].flat().includes('ALARM')), {
    message: 'a stop condition halts the experiment when its alarm is in ALARM, so ALARM cannot be an expected state',
    path: ['expected_state'],
  });

/**
 * The `k8s` probe reads a workload's health from the Kubernetes API: a Deployment's or StatefulSet's ready replicas
 * against `min_ready_replicas` (default: its desired replicas), or the pods matching `labels` in `expected_phase`
 * (and Ready) against `min_pods`.
 */
export const K8S_PROBE_KINDS = ['deployment', 'statefulset', 'pods'] as const;
export const k8sProbeProperties = z
  .strictObject({
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a valid namespace name').max(63),
    kind: z.enum(K8S_PROBE_KINDS),
    name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'not a valid resource name').max(253).optional(),
    labels: labels.optional(),
    cluster: z.string().min(1).max(256).optional(),
    min_ready_replicas: z.number().int().min(0).optional(),
    expected_phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional(),
    min_pods: z.number().int().min(0).optional(),
  })
  .superRefine((p, ctx) => {
    const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
    if (p.kind === 'pods') {
      if (p.labels === undefined || Object.keys(p.labels).length === 0) issue('labels', 'kind "pods" needs labels to select the pods');
      if (p.name !== undefined) issue('name', 'kind "pods" selects by labels; name is for deployment and statefulset');
      if (p.min_ready_replicas !== undefined) issue('min_ready_replicas', 'min_ready_replicas is for deployment and statefulset; use min_pods');
    } else {
      if (p.name === undefined) issue('name', `kind "${p.kind}" needs the name of the ${p.kind}`);
      if (p.labels !== undefined) issue('labels', `labels are for kind "pods"; kind "${p.kind}" is read by name`);
      if (p.expected_phase !== undefined) issue('expected_phase', 'expected_phase is for kind "pods"');
      if (p.min_pods !== undefined) issue('min_pods', 'min_pods is for kind "pods"; use min_ready_replicas');
    }
  });

/**
 * A tolerance on a number: `equals`, `lt`, `gt` (both together: strictly between) or `range: [min, max]` (both ends
 * included). Only a finite number can be within one; bounds that no number could meet are refused, naming the field.
 */
export const valueToleranceSchema = z
  .strictObject({
    equals: z.number().optional(),
    lt: z.number().optional(),
    gt: z.number().optional(),
    range: z.tuple([z.number(), z.number()]).optional(),
  })
  .superRefine((t, ctx) => {
    const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
    if (t.equals === undefined && t.lt === undefined && t.gt === undefined && t.range === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give the value\'s tolerance: equals, lt, gt (one or both) or range: [min, max]' });
    }
    if (t.equals !== undefined) {
      for (const field of ['lt', 'gt', 'range'] as const) if (t[field] !== undefined) issue(field, `equals already fixes the value; ${field} cannot be added to it`);
    } else if (t.range !== undefined) {
      for (const field of ['lt', 'gt'] as const) if (t[field] !== undefined) issue(field, `range already gives both bounds; put this one in range, or use lt and gt alone`);
    }
    if (t.lt !== undefined && t.gt !== undefined && t.gt >= t.lt) issue('lt', `no value is both greater than ${t.gt} (gt) and less than ${t.lt} (lt)`);
    if (t.range && t.range[0] > t.range[1]) issue('range', `the range's minimum ${t.range[0]} is above its maximum ${t.range[1]}; write it as [min, max]`);
  });
export type ValueTolerance = z.infer<typeof valueToleranceSchema>;

/** A base URL: the probe adds the API path itself, so a path into the API or a query string would be a mistake. */
function prometheusBaseUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // the URL check itself says so
  }
  if (/\/api\/v1(\/|$)/.test(parsed.pathname)) return 'give the server\'s base URL (such as http://prometheus:9090): the probe adds /api/v1/query itself';
  if (parsed.search !== '' || parsed.hash !== '') return 'a Prometheus base URL takes no query string or fragment (such as http://prometheus:9090)';
  return undefined;
}

/**
 * The `prometheus` probe runs one PromQL instant query (`<url>/api/v1/query`) and judges the value it returns against
 * `tolerance`. A vector of several series is within tolerance only when every series is. A query that returns no
 * series fails, unless `allow_empty` says that is fine (`sum(rate(errors[1m]))` with no error yet returns nothing).
 * With `stop_condition: true` it is also a stop condition, like the `cloudwatch_alarm` probe: a value out of tolerance
 * during OBSERVE halts the experiment at once and rolls it back.
 */
export const prometheusProbeProperties = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .max(2048)
    .superRefine((url, ctx) => {
      const problem = prometheusBaseUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  query: z.string().max(8192).regex(/\S/, 'an empty query'),
  method: z.enum(['GET', 'POST']).default('GET'),
  headers: boundedRecord(z.string().min(1).max(256), z.string().max(8192)).default({}),
  timeout_ms: z.number().int().min(1).max(300_000).default(5000),
  tolerance: valueToleranceSchema,
  allow_empty: z.boolean().default(false),
  stop_condition: z.boolean().default(false),
});

export const probeSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...probeCommon, type: z.literal('http'), properties: httpProbeProperties }),
  z.strictObject({ ...probeCommon, type: z.literal('cmd'), properties: cmdProbeProperties }),
  z.strictObject({ ...probeCommon, type: z.literal('cloudwatch_alarm'), properties: cloudwatchAlarmProbeProperties }),
  z.strictObject({ ...probeCommon, type: z.literal('k8s'), properties: k8sProbeProperties }),
  z.strictObject({ ...probeCommon, type: z.literal('prometheus'), properties: prometheusProbeProperties }),
]);
export type Probe = z.infer<typeof probeSchema>;
export type HttpProbe = Extract<Probe, { type: 'http' }>;
export type CmdProbe = Extract<Probe, { type: 'cmd' }>;
export type CloudWatchAlarmProbe = Extract<Probe, { type: 'cloudwatch_alarm' }>;
export type K8sProbe = Extract<Probe, { type: 'k8s' }>;
export type PrometheusProbe = Extract<Probe, { type: 'prometheus' }>;

// ---- the experiment ------------------------------------------------------------------------------------------------

export const experimentCommonFields = {
  name: z.string().min(1).max(128).regex(/^[\w .:@/-]+$/, 'may hold letters, digits, spaces and _ . : @ / - only'),
  description: z.string().max(4096).default(''),
  safety: safetySchema.default(safetySchema.parse({})),
  probes: z.array(probeSchema).max(50).default([]),
  ai_enabled: z.boolean().default(true),
};

const variant = <T extends ChaosType, Tg extends z.ZodType, P extends z.ZodType>(type: T, target: Tg, parameters: P) =>
  z.strictObject({
    ...experimentCommonFields,
    chaos_type: z.literal(type),
    target,
    parameters: parameters.default(parameters.parse({}) as never) as unknown as P,
  });

export const experimentSchema = z
  .discriminatedUnion('chaos_type', [
    variant('pod_delete', workloadTarget, podDeleteParameters),
    variant('network_latency', workloadTarget, latencyParameters),
    variant('network_loss', workloadTarget, lossParameters),
    variant('cpu_stress', workloadTarget, cpuParameters),
    variant('memory_stress', workloadTarget, memoryParameters),
    variant('ec2_stop', ec2Target, ec2StopParameters),
    variant('rds_failover', rdsTarget, rdsFailoverParameters),
    variant('route_blackhole', routeTarget, routeBlackholeParameters),
  ])
  .superRefine((spec, ctx) => {
    const { duration_seconds: duration } = spec.parameters as { duration_seconds: number };
    // Strictly shorter: the phases before OBSERVE need some of the timeout too.
    if (spec.safety.timeout_seconds >= 1 && duration >= spec.safety.timeout_seconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['parameters', 'duration_seconds'],
        message: `${duration}s${duration === 30 ? ' (the default)' : ''} is not shorter than safety.timeout_seconds (${spec.safety.timeout_seconds}s); shorten parameters.duration_seconds or raise the timeout`,
      });
    }
    const seen = new Set<string>();
    spec.probes.forEach((probe, index) => {
      if (seen.has(probe.name)) {
        ctx.addIssue({ code: 'custom', path: ['probes', index, 'name'], message: `duplicate probe name "${probe.name}"` });
      }
      seen.add(probe.name);
    });
  });

/**
 * The target field that names targets exactly, if the experiment uses one: selection still picks among them, but
 * `max_blast_radius` does not cap them, since the user chose each one (it caps picks from a pool: labels, tags).
 */
export function explicitTargetField(spec: FaultSpec): string | undefined {
  const target = spec.target as Record<string, unknown>;
  return ['pod_names', 'instance_ids', 'db_cluster_identifier', 'db_instance_identifier', 'subnet_ids'].find((field) => target[field] !== undefined);
}

// ---- Chaos Toolkit experiments -------------------------------------------------------------------------------------

export const ROLLBACK_STRATEGIES = ['default', 'always', 'never', 'deviated'] as const;
export type RollbackStrategy = (typeof ROLLBACK_STRATEGIES)[number];
export const HYPOTHESIS_STRATEGIES = ['default', 'before-method-only', 'after-method-only', 'during-method-only', 'continuously'] as const;
export type HypothesisStrategy = (typeof HYPOTHESIS_STRATEGIES)[number];
export const DRY_MODES = ['probes', 'actions', 'activities', 'pause'] as const;
export type DryMode = (typeof DRY_MODES)[number];

/** Any JSON value: one schema, so the OpenAPI document names it once (`JsonValue`) instead of once per use. */
const jsonValue = z.json().meta({ id: 'JsonValue' });

/**
 * How a Chaos Toolkit experiment is run: `chaos run`'s options. `rollback_strategy` left out means ChaosDuck's own,
 * safer default: the declared rollbacks play whenever a method action started (Chaos Toolkit's `default` skips them
 * when a probe errored). `configuration` and `secrets` are `--var` / `--var-file` overrides.
 */
export const chaosToolkitSettingsSchema = z.strictObject({
  rollback_strategy: z.enum(ROLLBACK_STRATEGIES).optional(),
  hypothesis_strategy: z.enum(HYPOTHESIS_STRATEGIES).optional(),
  /** Seconds between two checks of the hypothesis while the method runs (`--hypothesis-frequency`). */
  hypothesis_frequency: z.number().min(0).max(3600).default(1),
  fail_fast: z.boolean().default(false),
  dry: z.enum(DRY_MODES).optional(),
  configuration: boundedRecord(z.string().min(1).max(256), jsonValue).default({}),
  secrets: boundedRecord(z.string().min(1).max(256), boundedRecord(z.string().min(1).max(256), jsonValue)).default({}),
});
export type ChaosToolkitSettings = z.infer<typeof chaosToolkitSettingsSchema>;

/**
 * A Chaos Toolkit experiment, kept as its author wrote it (`experiment`: checked by `shared/ctk/validate.ts`, which
 * knows the format's rules and words) with what ChaosDuck adds around it: a name for listings, the safety settings
 * (from a `chaosduck` extension in the file, else the defaults) and how to run it.
 */
export const chaosToolkitSpecSchema = z.strictObject({
  format: z.literal('chaostoolkit'),
  name: z.string().min(1).max(256),
  description: z.string().max(4096).default(''),
  safety: safetySchema.default(safetySchema.parse({})),
  ai_enabled: z.boolean().default(false),
  experiment: z.record(z.string(), jsonValue),
  settings: chaosToolkitSettingsSchema.default(chaosToolkitSettingsSchema.parse({})),
});
export type ChaosToolkitSpec = z.infer<typeof chaosToolkitSpecSchema>;

/** A ChaosDuck request (one fault) or a Chaos Toolkit experiment (a method); told apart by `format`. */
export type ExperimentSpec = FaultSpec | ChaosToolkitSpec;

/** The experiment's chaos type as progress events, metrics and scores name it: a Chaos Toolkit experiment's is `chaostoolkit`. */
export const chaosTypeOf = (spec: ExperimentSpec): string => ('chaos_type' in spec ? spec.chaos_type : 'chaostoolkit');

export function isChaosToolkitSpec(spec: ExperimentSpec): spec is ChaosToolkitSpec {
  return (spec as { format?: unknown }).format === 'chaostoolkit';
}

/**
 * A spec as stored, and as it travels through the state machines. It was validated in full when it was submitted;
 * read back, only what the lifecycle itself relies on is checked, so that an experiment stored under older, looser
 * bounds can still run to its end and, above all, be rolled back.
 */
const storedSafety = z.looseObject({
  timeout_seconds: z.number(),
  max_blast_radius: z.number(),
  require_confirmation: z.boolean(),
  health_check_interval: z.number(),
  health_check_failure_threshold: z.number(),
});
export const storedSpecSchema = z.union([
  z.looseObject({
    name: z.string(),
    chaos_type: z.enum(CHAOS_TYPES),
    target: z.looseObject({ provider: z.string(), selection: z.string() }),
    parameters: z.looseObject({ duration_seconds: z.number() }),
    safety: storedSafety,
    probes: z.array(z.looseObject({ name: z.string(), type: z.string(), mode: z.string() })),
  }),
  z.looseObject({
    format: z.literal('chaostoolkit'),
    name: z.string(),
    safety: storedSafety,
    experiment: z.looseObject({}),
    settings: z.looseObject({}),
  }),
]) as unknown as z.ZodType<ExperimentSpec>;

/** What a user writes (defaults optional). */
export type ExperimentInput = z.input<typeof experimentSchema>;
/** A ChaosDuck request, validated, with every default filled in: one fault on its targets. */
export type FaultSpec = z.infer<typeof experimentSchema>;
export type WorkloadTarget = z.infer<typeof workloadTarget>;
