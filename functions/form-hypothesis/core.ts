/**
 * HYPOTHESIS: states what the experiment expects to hold while the fault is in place, and what it predicts will happen.
 * The rule-based former always states it; with `ai_enabled` and Claude configured, Claude states it from there (and
 * predicts the impact), within a deadline, and the journal records which analyst did, the model and the tokens.
 */
import type { PhaseInput } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { event } from '../../shared/lifecycle/events.js';
import type { ExperimentSpec } from '../../shared/model/experiment.js';
import type { AnalystSource, TokenUsage } from '../../shared/analysis/analyst.js';
import { ruleBasedHypothesis } from '../../shared/analysis/prediction.js';

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
  if (!aiEnabled || !deps.predict) return rules;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), PREDICTION_DEADLINE_MS)));
  try {
    const answer = await Promise.race([deps.predict(spec, rules), deadline]);
    if (!answer) return { ...rules, note: `Claude did not answer within ${PREDICTION_DEADLINE_MS / 1000} s; the rule-based hypothesis stands` };
    const { result, source, model, usage, note } = answer;
    return { ...result, source, model, usage, ...(note ? { note } : {}) };
  } finally {
    clearTimeout(timer);
  }
}
