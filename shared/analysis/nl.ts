/**
 * Natural language → experiment, offline: a small grammar of English and Korean phrases for every chaos type, its
 * target and its parameters, e.g. "nginx pod 하나를 랜덤으로 죽이고 복구 시간 관찰" or "add 200ms latency to the checkout
 * pods in namespace shop for 2 minutes". It returns the request body a person would have written, what each phrase
 * was read as, and what was assumed; the body then goes through the same validation, guardrails and dry run as any
 * request. What it cannot place is said: `could not understand: …`, naming what is missing and how to say it.
 *
 * Hand-written, as no library parses this vocabulary: each rule is a regular expression over the prompt, lower-cased
 * (identifiers keep their case where AWS needs it).
 */
import { ValidationError } from '../errors.js';
import type { JsonObject } from '../journal/activity.js';
import type { ChaosType } from '../model/experiment.js';
import { blastRadiusFor, parseSelection } from '../model/selection.js';

export interface TextExperiment {
  /** The request body, before validation: what `POST /api/chaos/experiments` takes. */
  experiment: Record<string, unknown>;
  /** Each phrase read, and what it set: `"죽이" → chaos_type pod_delete`. */
  understood: string[];
  /** What was not said and was chosen: `no duration: observe for 30 s`. */
  assumptions: string[];
}

/** A prompt the grammar cannot turn into an experiment; the message says what is missing and how to say it. */
export class NotUnderstoodError extends ValidationError {
  constructor(what: string) {
    super([{ field: 'prompt', message: `could not understand: ${what}` }], 'request');
  }
}

interface ChaosRule {
  type: ChaosType;
  pattern: RegExp;
}

/** Most specific first: "stop the ec2 instance" is an ec2_stop, not a pod_delete's "stop". */
const CHAOS_RULES: readonly ChaosRule[] = [
  { type: 'rds_failover', pattern: /fail ?-?over|페일오버|장애\s*조치|failover/ },
  { type: 'route_blackhole', pattern: /black ?-?hole|블랙홀|route table|라우트\s*(테이블)?\s*(차단|끊)|(cut|isolate)\s+(off\s+)?(the\s+)?subnets?|서브넷\s*(을|를)?\s*(차단|격리|끊)/ },
  { type: 'ec2_stop', pattern: /\b(stop|shut\s*down|halt|power\s*off)\b[^.]*\b(ec2|instances?|vms?)\b|\bec2\b[^.]*\b(stop|shut\s*down|halt)|(ec2|인스턴스)[^.]*(중지|정지|멈추|멈춰|끄)/ },
  { type: 'network_loss', pattern: /packet\s*loss|\bloss\b|drop(ping)?\s+(\d+\s*%\s*(of\s+)?)?(the\s+)?packets|lose\s+packets|패킷\s*(손실|유실|드롭)|손실|유실/ },
  { type: 'network_latency', pattern: /latency|delay|\blag\b|slow\s+(down\s+)?(the\s+)?network|지연|레이턴시|느리게/ },
  { type: 'cpu_stress', pattern: /\bcpu\b|프로세서/ },
  { type: 'memory_stress', pattern: /memory|\bram\b|\bmem\b|메모리/ },
  { type: 'pod_delete', pattern: /\b(kill|delete|terminate|remove|destroy|evict|crash|restart)\b|죽이|죽여|죽인|삭제|종료|제거|킬|재시작/ },
];

const AWS_TYPES: readonly ChaosType[] = ['ec2_stop', 'rds_failover', 'route_blackhole'];

/** `safety.max_blast_radius`'s default, which a selection of a small pool may need raised. */
const DEFAULT_MAX_BLAST_RADIUS = 0.3;

/** `safety.timeout_seconds`'s default; an observation that leaves the other phases less than a minute raises it. */
const DEFAULT_TIMEOUT_SECONDS = 120;

/** Words that stand before "pod" but name no workload ("one pod", "random pod"). */
const NOT_A_NAME = new Set([
  'a', 'an', 'the', 'one', 'two', 'three', 'four', 'five', 'single', 'random', 'all', 'every', 'each', 'some', 'any', 'of', 'its', 'my', 'our',
  'this', 'that', 'these', 'those', 'kubernetes', 'k8s', 'sandbox', 'running', 'healthy', 'ready', 'more', 'few', 'several', 'half', 'other',
]);

const NUMBER_WORDS: Record<string, number> = {
  one: 1, a: 1, an: 1, single: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  하나: 1, 한: 1, 둘: 2, 두: 2, 셋: 3, 세: 3, 넷: 4, 네: 4, 다섯: 5,
};

/**
 * `topology`: what the control plane can target now (as `GET /api/topology/combined` and the sandbox show it); when it
 * says how many targets the selector matches (the sandbox's replicas, a deployment's), `safety.max_blast_radius` is set
 * to what the selection needs, and the assumptions say so.
 */
export function experimentFromText(prompt: string, topology?: JsonObject): TextExperiment {
  const original = prompt.normalize('NFC').trim();
  if (original.length === 0) throw new NotUnderstoodError('the prompt is empty; describe the fault, its target and how long, e.g. "kill one nginx pod and watch it recover"');
  const text = ` ${original.toLowerCase().replace(/\s+/g, ' ')} `;
  const understood: string[] = [];
  const assumptions: string[] = [];
  const said: Said = (match, meaning) => {
    if (match) understood.push(`"${match[0].trim()}" → ${meaning}`);
  };

  // The fault.
  let chaosType: ChaosType | undefined;
  for (const rule of CHAOS_RULES) {
    const match = rule.pattern.exec(text);
    if (match) {
      chaosType = rule.type;
      said(match, `chaos_type ${rule.type}`);
      break;
    }
  }
  if (!chaosType) {
    throw new NotUnderstoodError(
      'which fault to inject. Say one of: kill or delete a pod (죽이기/삭제), add network latency (지연), drop packets (패킷 손실), stress CPU (CPU 부하) or memory (메모리 부하), stop an EC2 instance (인스턴스 중지), fail over an RDS cluster (페일오버), blackhole a subnet (블랙홀)',
    );
  }

  const parameters: Record<string, unknown> = {};
  const safety: Record<string, unknown> = {};
  const isAws = AWS_TYPES.includes(chaosType);
  const target = isAws ? awsTarget(chaosType, original, text, said) : workloadTarget(text, said, assumptions);

  // How long.
  // Said with "for …" or "… 동안": a bare time may be something else ("start it again after 2 minutes").
  const duration =
    /\b(?:for|during|over|lasting)\s+(\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])/.exec(text) ??
    /(\d+(?:\.\d+)?)\s*(시간|분|초)\s*(?:동안|간)/.exec(text);
  if (duration) {
    const value = Number(duration[1]);
    const unit = duration[2] as string;
    const seconds = Math.round(/^(h|hours?|hrs?|시간)$/.test(unit) ? value * 3600 : /^(m|mins?|minutes?|분)$/.test(unit) ? value * 60 : value);
    parameters.duration_seconds = seconds;
    said(duration, `duration_seconds ${seconds}`);
    // The run must end inside its timeout: leave the other phases a minute, as the defaults do.
    if (seconds + 60 > DEFAULT_TIMEOUT_SECONDS) {
      safety.timeout_seconds = Math.min(seconds + 120, 3600);
      assumptions.push(`safety.timeout_seconds ${safety.timeout_seconds}: the observation plus two minutes for the other phases`);
    }
  } else {
    assumptions.push('no duration given: observe for 30 s (the default duration_seconds)');
  }

  faultParameters(chaosType, text, parameters, said, assumptions);
  if (!isAws) fitBlastRadius(target, topology, safety, assumptions);

  // A steady state to check, when a URL is given.
  const url = /https?:\/\/[^\s"'<>]+/.exec(original);
  const probes = url ? [{ name: 'health', type: 'http', mode: 'continuous', properties: { url: url[0].replace(/[.,;)]+$/, ''), expected_status: 200 } }] : [];
  if (url) said(url, 'an http probe "health" expecting 200, checked before, during and after');
  else assumptions.push('no URL given: no probe checks the steady state; add one to `probes` (an http probe on the service) to learn something');

  const observe = /(observe|watch|measure|record|track)\s+(the\s+)?(recovery|how\s+(long|fast))|복구\s*(시간)?\s*(을|를)?\s*(관찰|측정|확인|기록)|회복/.exec(text);
  if (observe) said(observe, chaosType === 'pod_delete' ? 'observe recovery: ROLLBACK records how long the pods took to come back' : 'observe recovery: the journal and score record the recovery time');

  const name = nameOf(chaosType, target);
  return {
    experiment: {
      name,
      description: `From the prompt: ${original.slice(0, 3900)}`,
      chaos_type: chaosType,
      target,
      ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
      ...(Object.keys(safety).length > 0 ? { safety } : {}),
      ...(probes.length > 0 ? { probes } : {}),
    },
    understood,
    assumptions,
  };
}

/** Records what a phrase (a regular expression's match, or the words it found) was read as. */
type Said = (match: { 0: string } | null | undefined, meaning: string) => void;

function workloadTarget(text: string, said: Said, assumptions: string[]): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  const sandbox = /\bsandbox\b|샌드박스|demo service|데모 서비스/.exec(text);
  if (sandbox) {
    target.provider = 'sandbox';
    said(sandbox, 'target.provider sandbox (the local demo service)');
  }
  // Labels written out: app=web, tier: frontend.
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/\b([a-z0-9][a-z0-9./-]*)\s*[=:]\s*([a-z0-9][a-z0-9._-]*)\b/g)) {
    if (['http', 'https', 'namespace', 'ns', 'cluster', 'context'].includes(match[1] as string)) continue;
    labels[match[1] as string] = match[2] as string;
    said(match, `label ${match[1]}=${match[2]}`);
  }
  // A workload named before what it is: "nginx pod", "the checkout deployment", "web 파드".
  if (Object.keys(labels).length === 0) {
    const workload = /([a-z0-9][a-z0-9-]*)\s*(?:'s\s+)?(pods?|replicas?|containers?|deployments?|services?|apps?|workloads?|파드|팟|컨테이너|레플리카|디플로이먼트|서비스|앱)/g;
    for (const match of text.matchAll(workload)) {
      const name = match[1] as string;
      if (NOT_A_NAME.has(name) || /^\d+$/.test(name) || name in NUMBER_WORDS) continue;
      labels.app = name;
      said(match, `target.labels.app ${name}`);
      break;
    }
  }
  if (Object.keys(labels).length === 0) {
    // "pods of the web app", "pods of checkout"
    const of = /(?:pods?|replicas?|containers?)\s+(?:of|for|in|from|behind)\s+(?:the\s+)?([a-z0-9][a-z0-9-]*)/.exec(text);
    if (of && !NOT_A_NAME.has(of[1] as string) && !/^\d/.test(of[1] as string) && !['namespace', 'ns', 'cluster'].includes(of[1] as string)) {
      labels.app = of[1] as string;
      said(of, `target.labels.app ${of[1]}`);
    }
  }
  if (Object.keys(labels).length === 0) {
    if (!sandbox) {
      throw new NotUnderstoodError(
        'which pods. Name the workload before "pod" ("the nginx pods", "nginx 파드"), or give a label ("app=web"), or say "sandbox" for the local demo service',
      );
    }
    labels.app = 'demo';
    assumptions.push('the sandbox service: target.labels.app demo');
  }
  target.labels = labels;

  const namespace = /(?:in|on|from)\s+(?:the\s+)?(?:namespace|ns)\s+([a-z0-9][a-z0-9-]*)|(?:namespace|ns)\s*[=:]?\s*([a-z0-9][a-z0-9-]*)|([a-z0-9][a-z0-9-]*)\s*(?:namespace|네임스페이스)|네임스페이스\s*([a-z0-9][a-z0-9-]*)/.exec(text);
  const ns = namespace?.slice(1).find((group) => group !== undefined);
  if (ns && !NOT_A_NAME.has(ns)) {
    target.namespace = ns;
    said(namespace, `target.namespace ${ns}`);
  } else if (!sandbox) {
    assumptions.push('no namespace given: target.namespace default');
  }
  const cluster = /(?:cluster|context|클러스터)\s*[=:]?\s*([a-z0-9][a-z0-9._@:/-]*)|([a-z0-9][a-z0-9._-]*)\s*(?:cluster|클러스터)\b/.exec(text);
  const clusterName = cluster?.slice(1).find((group) => group !== undefined);
  if (clusterName && !NOT_A_NAME.has(clusterName)) {
    target.cluster = clusterName;
    said(cluster, `target.cluster ${clusterName}`);
  }

  // How many.
  const all = /\b(all|every)\b|모든|전부|전체/.exec(text);
  const percent = /(\d+(?:\.\d+)?)\s*(?:%|percent|퍼센트)\s*(?:of\s+(?:the\s+)?)?(?:pods?|replicas?|파드|의\s*파드)|\bhalf\b|절반/.exec(text);
  const count = /\b(\d+|one|a|an|single|two|three|four|five|six|seven|eight|nine|ten)\s+(?:random\s+|randomly\s+chosen\s+|of\s+the\s+)?(?:[a-z0-9-]+\s+)?(?:pods?|replicas?|containers?)|(\d+)\s*개|(하나|한|둘|두|셋|세|넷|네|다섯)\s*(?:개|를|만)?/.exec(text);
  if (percent) {
    const share = percent[1] ? Number(percent[1]) : 50;
    target.selection = `PERCENT(${share})`;
    said(percent, `target.selection PERCENT(${share})`);
  } else if (count) {
    const word = (count[1] ?? count[2] ?? count[3]) as string;
    const n = /^\d+$/.test(word) ? Number(word) : (NUMBER_WORDS[word] ?? 1);
    target.selection = `COUNT(${n})`;
    said(count, `target.selection COUNT(${n})`);
  } else if (all) {
    target.selection = 'ALL';
    said(all, 'target.selection ALL (max_blast_radius still caps it)');
  } else {
    assumptions.push('no count given: one target (target.selection COUNT(1))');
  }
  const random = /\brandom(ly)?\b|랜덤|무작위|임의/.exec(text);
  if (random) said(random, 'picked at random among the matching targets (as every selection is)');
  return target;
}

/**
 * Raises `safety.max_blast_radius` from its default to what the selection needs when the topology says how large the
 * pool is: COUNT(1) of the sandbox's 3 replicas needs 0.34, which the default 0.3 refuses. ALL keeps the cap's meaning
 * (it is raised only as far as one target); it is never lowered.
 */
function fitBlastRadius(target: Record<string, unknown>, topology: JsonObject | undefined, safety: Record<string, unknown>, assumptions: string[]): void {
  const pool = topology && poolSize(target, topology);
  if (!pool) return;
  const selection = parseSelection(typeof target.selection === 'string' ? target.selection : 'COUNT(1)');
  const requested =
    selection.mode === 'COUNT' ? Math.min(selection.count, pool) : selection.mode === 'PERCENT' ? Math.max(1, Math.round((selection.percent * pool) / 100)) : 1;
  const needed = blastRadiusFor(requested, pool);
  if (Number(needed) <= DEFAULT_MAX_BLAST_RADIUS) return;
  safety.max_blast_radius = Number(needed);
  assumptions.push(
    `safety.max_blast_radius ${needed}: ${requested} of the ${pool} matching target(s) the topology shows (the default ${DEFAULT_MAX_BLAST_RADIUS} allows ${Math.floor(DEFAULT_MAX_BLAST_RADIUS * pool + 1e-9)})`,
  );
}

/** How many targets a sandbox or Kubernetes selector matches, as the topology shows them; undefined when it cannot say. */
export function poolSize(target: Record<string, unknown>, topology: JsonObject): number | undefined {
  const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
  const labels = record(target.labels);
  const within = (own: Record<string, unknown>) => Object.entries(labels).every(([key, value]) => own[key] === value);
  if (target.provider === 'sandbox') {
    const sandbox = record(topology.sandbox);
    if (!within(record(sandbox.labels))) return undefined;
    const replicas = Array.isArray(sandbox.replicas) ? sandbox.replicas.length : Number(sandbox.desired_replicas);
    return Number.isInteger(replicas) && replicas > 0 ? replicas : undefined;
  }
  if (target.provider !== undefined && target.provider !== 'kubernetes') return undefined;
  const kubernetes = record(topology.kubernetes);
  if (target.cluster !== undefined && kubernetes.cluster !== undefined && target.cluster !== kubernetes.cluster) return undefined;
  const namespace = typeof target.namespace === 'string' ? target.namespace : 'default';
  // The pods of the namespace's workloads whose pods carry the labels. Pods it cannot see (no workload listed) make the
  // pool larger and the need smaller, so what is set from these is still enough.
  const workloads = [kubernetes.deployments, kubernetes.statefulsets].flatMap((list) => (Array.isArray(list) ? list.map(record) : []));
  const pods = workloads
    .filter((workload) => (workload.namespace ?? 'default') === namespace && Object.keys(labels).length > 0 && within({ ...record(workload.labels), ...record(workload.selector) }))
    .reduce((sum, workload) => sum + Number(workload.ready_replicas ?? workload.replicas ?? 0), 0);
  return Number.isInteger(pods) && pods > 0 ? pods : undefined;
}

function awsTarget(chaosType: ChaosType, original: string, text: string, said: Said): Record<string, unknown> {
  const target: Record<string, unknown> = { provider: 'aws' };
  const region = /\b([a-z]{2}(?:-gov)?-[a-z]+-\d)\b/.exec(text);
  if (region) {
    target.region = region[1];
    said(region, `target.region ${region[1]}`);
  }
  const tags: Record<string, string> = {};
  for (const match of original.matchAll(/\b(?:tag(?:ged)?\s+)?([A-Za-z][\w:./-]*)\s*=\s*([\w.:/-]+)/g)) {
    tags[match[1] as string] = match[2] as string;
    said(match, `target.tags ${match[1]}=${match[2]}`);
  }
  if (chaosType === 'ec2_stop') {
    const ids = [...new Set(text.match(/\bi-[0-9a-f]{8,17}\b/g) ?? [])];
    if (ids.length > 0) {
      target.instance_ids = ids;
      said([ids.join(', ')], `target.instance_ids ${ids.join(', ')}`);
    } else if (Object.keys(tags).length > 0) {
      target.tags = tags;
    } else {
      throw new NotUnderstoodError('which instances. Give their ids ("i-0abc12345678def00") or a tag ("tagged env=staging")');
    }
  } else if (chaosType === 'rds_failover') {
    const notAName = (word: string | undefined) => word === undefined || ['the', 'rds', 'aurora', 'db', 'database', 'our', 'my', 'a', 'of', 'for', 'in', 'on', 'and', 'this'].includes(word.toLowerCase());
    // "cluster orders-db" first, then "the orders-db (aurora) cluster".
    const after = /(?:cluster|클러스터)\s+([A-Za-z][A-Za-z0-9-]{0,62})\b/i.exec(original);
    const before = /\b([A-Za-z][A-Za-z0-9-]{0,62})\s+(?:aurora\s+|rds\s+|db\s+)?(?:cluster|클러스터)/i.exec(original);
    const cluster = after && !notAName(after[1]) ? after : before && !notAName(before[1]) ? before : undefined;
    const name = cluster?.[1];
    const instance = /(?:db\s+instance|instance|인스턴스)\s+([A-Za-z][A-Za-z0-9-]{0,62})\b/i.exec(original);
    if (name) {
      target.db_cluster_identifier = name;
      said(cluster, `target.db_cluster_identifier ${name}`);
    } else if (instance) {
      target.db_instance_identifier = instance[1];
      said(instance, `target.db_instance_identifier ${instance[1]}`);
    } else if (Object.keys(tags).length > 0) {
      target.tags = tags;
    } else {
      throw new NotUnderstoodError('which database. Name its cluster ("fail over the orders-db cluster", "orders-db 클러스터") or give a tag ("tagged env=staging")');
    }
  } else {
    const subnets = [...new Set(text.match(/\bsubnet-[0-9a-f]{8,17}\b/g) ?? [])];
    const table = /\brtb-[0-9a-f]{8,17}\b/.exec(text);
    if (subnets.length > 0) {
      target.subnet_ids = subnets;
      said([subnets.join(', ')], `target.subnet_ids ${subnets.join(', ')}`);
    } else if (table) {
      target.route_table_id = table[0];
      said(table, `target.route_table_id ${table[0]}`);
    } else if (Object.keys(tags).length > 0) {
      target.tags = tags;
    } else {
      throw new NotUnderstoodError('which subnets. Give subnet ids ("subnet-0abc1234") or a route table id ("rtb-0abc1234") or a tag ("tagged tier=app")');
    }
  }
  const all = /\b(all|every)\b|모든|전부/.exec(text);
  const count = /\b(\d+|one|two|three)\s+(?:of\s+the\s+)?(?:instances?|subnets?)\b/.exec(text);
  if (count) {
    const word = count[1] as string;
    const n = /^\d+$/.test(word) ? Number(word) : (NUMBER_WORDS[word] ?? 1);
    target.selection = `COUNT(${n})`;
    said(count, `target.selection COUNT(${n})`);
  } else if (all) {
    target.selection = 'ALL';
    said(all, 'target.selection ALL (max_blast_radius still caps it)');
  }
  return target;
}

function faultParameters(chaosType: ChaosType, text: string, parameters: Record<string, unknown>, said: Said, assumptions: string[]): void {
  const ms = /(\d+(?:\.\d+)?)\s*(ms|milliseconds?|밀리초)\b/.exec(text);
  const pct = /(\d+(?:\.\d+)?)\s*(?:%|percent|퍼센트)/.exec(text);
  switch (chaosType) {
    case 'network_latency': {
      const seconds = /(\d+(?:\.\d+)?)\s*(?:s|sec|seconds?|초)\s*(?:of\s+)?(?:latency|delay|지연)/.exec(text);
      if (ms) {
        parameters.latency_ms = Math.round(Number(ms[1]));
        said(ms, `parameters.latency_ms ${parameters.latency_ms}`);
      } else if (seconds) {
        parameters.latency_ms = Math.round(Number(seconds[1]) * 1000);
        said(seconds, `parameters.latency_ms ${parameters.latency_ms}`);
      } else {
        assumptions.push('no delay given: parameters.latency_ms 100 (the default)');
      }
      const jitter = /jitter\s*(?:of\s+)?(\d+)\s*ms|(\d+)\s*ms\s*(?:of\s+)?jitter|지터\s*(\d+)/.exec(text);
      if (jitter) {
        parameters.jitter_ms = Number(jitter[1] ?? jitter[2] ?? jitter[3]);
        said(jitter, `parameters.jitter_ms ${parameters.jitter_ms}`);
      }
      return;
    }
    case 'network_loss':
      if (pct) {
        parameters.loss_percent = Number(pct[1]);
        said(pct, `parameters.loss_percent ${parameters.loss_percent}`);
      } else {
        assumptions.push('no loss rate given: parameters.loss_percent 10 (the default)');
      }
      return;
    case 'cpu_stress': {
      const cores = /(\d+)\s*(?:cores?|cpus|vcpus?|코어)/.exec(text);
      if (cores) {
        parameters.cpu_cores = Number(cores[1]);
        said(cores, `parameters.cpu_cores ${parameters.cpu_cores}`);
      }
      if (pct && Number(pct[1]) >= 1 && Number(pct[1]) <= 100) {
        parameters.cpu_load_percent = Math.round(Number(pct[1]));
        said(pct, `parameters.cpu_load_percent ${parameters.cpu_load_percent}`);
      } else {
        assumptions.push('no load given: parameters.cpu_load_percent 100 on one core (the defaults)');
      }
      return;
    }
    case 'memory_stress': {
      const size = /(\d+(?:\.\d+)?)\s*(gb|gib|g|기가|mb|mib|m|메가)(?![a-z])/.exec(text);
      if (size) {
        const gigabytes = /^(gb|gib|g|기가)$/.test(size[2] as string);
        parameters.memory_mb = Math.round(Number(size[1]) * (gigabytes ? 1024 : 1));
        said(size, `parameters.memory_mb ${parameters.memory_mb}`);
      } else {
        assumptions.push('no size given: parameters.memory_mb 256 (the default)');
      }
      return;
    }
    case 'pod_delete': {
      const grace = /grace\s*(?:period)?\s*(?:of\s+)?(\d+)\s*(?:s|sec|seconds?)?|(\d+)\s*(?:s|sec|seconds?)\s+grace/.exec(text);
      if (grace) {
        parameters.grace_period_seconds = Number(grace[1] ?? grace[2]);
        said(grace, `parameters.grace_period_seconds ${parameters.grace_period_seconds}`);
      }
      return;
    }
    case 'ec2_stop': {
      const force = /\bforce(d|fully)?\b|강제/.exec(text);
      if (force) {
        parameters.force = true;
        said(force, 'parameters.force true');
      }
      const restart = /(?:start|restart|bring)\s+(?:it|them)?\s*(?:again\s+|back\s+)?(?:up\s+)?after\s+(\d+)\s*(s|sec|seconds?|m|min|minutes?)(?![a-z])/.exec(text);
      if (restart) {
        parameters.start_after_seconds = Number(restart[1]) * (/^m/.test(restart[2] as string) ? 60 : 1);
        said(restart, `parameters.start_after_seconds ${parameters.start_after_seconds}`);
      }
      return;
    }
    case 'rds_failover': {
      const failBack = /fail\s*-?back|원래대로|되돌/.exec(text);
      if (failBack) {
        parameters.fail_back = true;
        said(failBack, 'parameters.fail_back true');
      }
      return;
    }
    case 'route_blackhole': {
      const cidr = /\b(\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2})\b/.exec(text);
      if (cidr) {
        parameters.destination_cidr = cidr[1];
        said(cidr, `parameters.destination_cidr ${cidr[1]}`);
      } else {
        assumptions.push('no destination given: every route (parameters.destination_cidr 0.0.0.0/0)');
      }
      return;
    }
  }
}

function nameOf(chaosType: ChaosType, target: Record<string, unknown>): string {
  const labels = (target.labels ?? {}) as Record<string, string>;
  const what = labels.app ?? Object.values(labels)[0] ?? String(target.db_cluster_identifier ?? target.db_instance_identifier ?? (target.instance_ids as string[] | undefined)?.[0] ?? (target.subnet_ids as string[] | undefined)?.[0] ?? target.route_table_id ?? 'target');
  return `${String(what).replace(/[^\w .:@/-]/g, '-').slice(0, 96)}-${chaosType.replace(/_/g, '-')}`;
}
