/**
 * The rule-based statement of an experiment's hypothesis: what it expects to hold while its fault is in place, one
 * expectation per probe (a Chaos Toolkit experiment states its own). The HYPOTHESIS phase starts from it, and so does
 * Claude's prediction (`POST /api/analysis/predict`).
 */
import { probesFor } from '../lifecycle/events.js';
import { hypothesisStrategy, methodOf } from '../ctk/method.js';
import { isChaosToolkitSpec, type ChaosToolkitSpec, type ExperimentSpec, type FaultSpec, type Probe } from '../model/experiment.js';
import { describeTolerance } from '../probes/value-tolerance.js';
import type { StatedHypothesis } from './analyst.js';

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
  if (probe.type === 'prometheus') {
    const p = probe.properties;
    const empty = p.allow_empty ? ', or no series' : '';
    const stop = p.stop_condition ? ' (stop condition: a value out of tolerance halts the experiment)' : '';
    return `${probe.name}: Prometheus query ${p.query} stays ${describeTolerance(p.tolerance)} in every series${empty}${stop}`;
  }
  return `${probe.name}: command exits ${probe.properties.expected_exit_code}`;
}

export function ruleBasedHypothesis(spec: ExperimentSpec): StatedHypothesis & { source: 'rules' } {
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
function chaosToolkitHypothesis(spec: ChaosToolkitSpec): StatedHypothesis & { source: 'rules' } {
  const { hypothesis, method } = methodOf(spec.experiment);
  const actions = method.filter((a) => a.type === 'action').map((a) => a.name);
  const expectations = (hypothesis?.probes ?? []).map((probe) => `${probe.name}: within tolerance ${JSON.stringify(probe.tolerance ?? null)}`);
  const when = actions.length > 0 ? `When ${actions.join(', then ')} ${actions.length === 1 ? 'runs' : 'run'}` : 'While the method runs';
  const statement = hypothesis
    ? `${when}, the steady state "${hypothesis.title}" holds (strategy ${hypothesisStrategy(spec)}): ${expectations.join('; ') || 'no probes'}.`
    : `${when}; the experiment declares no steady-state hypothesis, so nothing is checked.`;
  return { statement, expectations, source: 'rules' };
}

