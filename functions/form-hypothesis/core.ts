/**
 * HYPOTHESIS: states what the experiment expects to hold while the fault is in place, and what it predicts will happen.
 * The rule-based former always states it; with `ai_enabled` and Claude configured, Claude states it from there (and
 * predicts the impact), within a deadline, and the journal records which analyst did, the model and the tokens.
 */
import type { PhaseInput } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { event, probesFor } from '../../shared/lifecycle/events.js';
import { isChaosToolkitSpec, type ChaosToolkitSpec, type ExperimentSpec, type FaultSpec, type Probe } from '../../shared/model/experiment.js';
import { hypothesisStrategy, methodOf } from '../../shared/ctk/method.js';
import type { AnalystSource, TokenUsage } from '../../shared/analysis/analyst.js';

export interface Hypothesis {
  statement: string;
  expectations: string[];
  source: AnalystSource;
  predicted_impact?: string[];
  model?: string | null;
  usage?: TokenUsage | null;
  note?: string;
}

/** How long the phase waits for Claude before the rule-based statement stands. */
const PREDICTION_DEADLINE_MS = 20_000;

const FAULT_WORDS: Record<FaultSpec['chaos_type'], (p: Record<string, unknown>) => string> = {
  pod_delete: () => 'selected replicas are deleted',
  network_latency: (p) => `${p.latency_ms} ms of latency is added to the selected replicas`,
  network_loss: (p) => `${p.loss_percent}% of packets to the selected replicas are lost`,
  cpu_stress: (p) => `${p.cpu_cores} CPU core(s) run at ${p.cpu_load_percent}% load beside the selected replicas`,
  memory_stress: (p) => `${p.memory_mb} MiB of memory is taken beside the selected replicas`,
  ec2_stop: () => 'the selected EC2 instances are stopped',
  rds_failover: () => 'the selected RDS database fails over',
  route_blackhole: (p) => `traffic to ${p.destination_cidr} from the selected subnets is blackholed`,
};

function expectationOf(probe: Probe): string {
  if (probe.type === 'http') {
    const p = probe.properties;
    const status = Array.isArray(p.expected_status) ? p.expected_status.join('/') : p.expected_status;
    const latency = p.max_latency_ms ? ` within ${p.max_latency_ms} ms` : '';
    return `${probe.name}: ${p.method} ${p.url} answers ${status}${latency}`;
  }
  if (probe.type === 'cloudwatch_alarm') {
    const p = probe.properties;
    const states = [p.expected_state].flat().join('/');
    const stop = p.stop_condition ? ' (stop condition: ALARM halts the experiment)' : '';
    return `${probe.name}: CloudWatch alarm ${p.alarm_name} stays ${states}${stop}`;
  }
  if (probe.type === 'k8s') {
    const p = probe.properties;
    if (p.kind === 'pods') {
      const selector = Object.entries(p.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      const phase = p.expected_phase ?? 'Running';
      return `${probe.name}: at least ${p.min_pods ?? 1} pod(s) ${selector} in ${p.namespace} ${phase === 'Running' ? 'Running and Ready' : `in phase ${phase}`}`;
    }
    const min = p.min_ready_replicas === undefined ? 'all desired' : `at least ${p.min_ready_replicas}`;
    return `${probe.name}: ${p.kind} ${p.namespace}/${p.name} keeps ${min} replicas ready`;
  }
  return `${probe.name}: command exits ${probe.properties.expected_exit_code}`;
}

export function ruleBasedHypothesis(spec: ExperimentSpec): Hypothesis {
  if (isChaosToolkitSpec(spec)) return chaosToolkitHypothesis(spec);
  const watched = [...new Set([...probesFor(spec, 'during'), ...probesFor(spec, 'after')])];
  const fault = FAULT_WORDS[spec.chaos_type](spec.parameters as Record<string, unknown>);
  const expectations = watched.map(expectationOf);
  const tolerance = `${spec.safety.health_check_failure_threshold} failed health check(s) in a row`;
  const statement =
    expectations.length > 0
      ? `When ${fault}, the system keeps its steady state: ${expectations.join('; ')}; fewer than ${tolerance}.`
      : `When ${fault}, the fault is applied and fully rolled back; no probe watches the steady state.`;
  return { statement, expectations, source: 'rules' };
}

/** A Chaos Toolkit experiment states its hypothesis itself: its title, and each probe with its tolerance. */
function chaosToolkitHypothesis(spec: ChaosToolkitSpec): Hypothesis {
  const { hypothesis, method } = methodOf(spec.experiment);
  const actions = method.filter((a) => a.type === 'action').map((a) => a.name);
  const expectations = (hypothesis?.probes ?? []).map((probe) => `${probe.name}: within tolerance ${JSON.stringify(probe.tolerance ?? null)}`);
  const when = actions.length > 0 ? `When ${actions.join(', then ')} ${actions.length === 1 ? 'runs' : 'run'}` : 'While the method runs';
  const statement = hypothesis
    ? `${when}, the steady state "${hypothesis.title}" holds (strategy ${hypothesisStrategy(spec)}): ${expectations.join('; ') || 'no probes'}.`
    : `${when}; the experiment declares no steady-state hypothesis, so nothing is checked.`;
  return { statement, expectations, source: 'rules' };
}

export async function formHypothesis({ experiment }: PhaseInput, deps: LifecycleDeps): Promise<Hypothesis> {
  const start = deps.clock();
  const hypothesis = await predicted(experiment.spec, ruleBasedHypothesis(experiment.spec), deps);
  const at = new Date(deps.clock()).toISOString();
  await emit(deps, [event(experiment.id, 'hypothesis.formed', 'HYPOTHESIS', { ...hypothesis }, deps.clock())], {
    experimentId: experiment.id,
    result: { phase: 'HYPOTHESIS', status: 'succeeded', start: new Date(start).toISOString(), end: at, detail: { ...hypothesis } },
  });
  return hypothesis;
}

/** Claude's statement and prediction when the experiment asks for it and Claude is configured; else the rules'. */
async function predicted(spec: ExperimentSpec, rules: Hypothesis, deps: LifecycleDeps): Promise<Hypothesis> {
  const aiEnabled = 'ai_enabled' in spec && spec.ai_enabled;
  if (!aiEnabled || deps.analyst?.source !== 'claude') return rules;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), PREDICTION_DEADLINE_MS)));
  try {
    const answer = await Promise.race([deps.analyst.predict(spec, rules), deadline]);
    if (!answer) return { ...rules, note: `Claude did not answer within ${PREDICTION_DEADLINE_MS / 1000} s; the rule-based hypothesis stands` };
    const { result, source, model, usage, note } = answer;
    return { ...result, source, model, usage, ...(note ? { note } : {}) };
  } finally {
    clearTimeout(timer);
  }
}
