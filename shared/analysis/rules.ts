/**
 * The offline analyst: answers from the journal's statistics and the grammar in `nl.ts`, the same every time, with no
 * network. Most machines (CI included) have no API key; these answers are meant to be useful on their own.
 */
import type { JsonObject } from '../journal/activity.js';
import type { Analyst, AnalystAnswer, Prediction, StatedHypothesis } from './analyst.js';
import type { ExperimentSpec } from '../model/experiment.js';
import { analyzeJournal, type ExperimentAnalysis } from './findings.js';
import { hypothesesFor, type Hypothesis } from './hypotheses.js';
import { experimentFromText, type TextExperiment } from './nl.js';

const answer = <T>(result: T): AnalystAnswer<T> => ({ result, source: 'rules', model: null, usage: null });

export const rulesAnalyst: Analyst = {
  source: 'rules',
  async experimentFromText(prompt: string, topology?: JsonObject): Promise<AnalystAnswer<TextExperiment>> {
    return answer(experimentFromText(prompt, topology));
  },
  async analyzeExperiment(journal: JsonObject): Promise<AnalystAnswer<ExperimentAnalysis>> {
    return answer(analyzeJournal(journal));
  },
  async hypotheses(topology: JsonObject, steadyState?: JsonObject): Promise<AnalystAnswer<Hypothesis[]>> {
    return answer(hypothesesFor(topology, steadyState));
  },
  async predict(spec: ExperimentSpec, rules: StatedHypothesis): Promise<AnalystAnswer<Prediction>> {
    return answer({ ...rules, predicted_impact: predictedImpact(spec) });
  },
};

/** What each fault does while it is in place, as the rules know it. */
function predictedImpact(spec: ExperimentSpec): string[] {
  if (!('chaos_type' in spec)) return ['the method\'s actions change the system as they declare; the hypothesis is checked as the strategy says'];
  const p = spec.parameters as Record<string, unknown>;
  switch (spec.chaos_type) {
    case 'pod_delete':
      return ['capacity drops by the deleted pods until their replacements are ready', 'requests in flight on a deleted pod fail unless clients retry'];
    case 'network_latency':
      return [`responses from the targets take ${String(p.latency_ms)} ms longer`, 'callers with shorter timeouts than that fail; the rest slow down'];
    case 'network_loss':
      return [`${String(p.loss_percent)}% of packets are dropped: connections retransmit and tail latency rises`, 'calls without retries fail now and then'];
    case 'cpu_stress':
      return ['the targets\' CPU is saturated: response times rise and throttling may show'];
    case 'memory_stress':
      return [`${String(p.memory_mb)} MiB is taken: a target near its memory limit may be OOM-killed and restart`];
    case 'ec2_stop':
      return ['the instances stop serving; a load balancer should stop sending them traffic after its health checks fail'];
    case 'rds_failover':
      return ['writes fail for the seconds of the failover, and connections to the old writer break'];
    case 'route_blackhole':
      return ['traffic from the subnets to the destination is dropped: connections time out rather than fail fast'];
  }
}
