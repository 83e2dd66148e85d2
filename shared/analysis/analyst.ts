/**
 * The analyst port: who answers the analysis questions. Two adapters give answers of the same shapes: Claude (through
 * the Anthropic API, where a key is configured) and the rules (offline, deterministic; `rules.ts`). Every answer says
 * which analyst made it, the model and the tokens used.
 *
 * An analyst never decides whether a fault may be injected and never runs anything: what it proposes goes through the
 * same validation, guardrails and dry run as a request from a person, and a person submits it.
 */
import type { JsonObject } from '../journal/activity.js';
import type { ExperimentSpec } from '../model/experiment.js';
import type { ExperimentAnalysis } from './findings.js';
import type { Hypothesis } from './hypotheses.js';
import type { TextExperiment } from './nl.js';

export type AnalystSource = 'claude' | 'rules';

/** A type, not an interface, so it fits where JSON is expected (journal events). */
export type TokenUsage = {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
};

export interface AnalystAnswer<T> {
  result: T;
  source: AnalystSource;
  /** The Claude model that answered; null for the rules. */
  model: string | null;
  usage: TokenUsage | null;
  /** Why the rules answered although Claude is configured (an answer that did not validate twice, an API error). */
  note?: string;
}

export interface Analyst {
  readonly source: AnalystSource;
  /**
   * A prompt in any language → the experiment a person would write (not yet validated), with what was read and assumed;
   * `topology` (what can be targeted now, when known) sizes its pools, so the blast radius it sets is what it needs.
   */
  experimentFromText(prompt: string, topology?: JsonObject): Promise<AnalystAnswer<TextExperiment>>;
  /** What a finished experiment's journal shows: what happened, whether the hypothesis held and why, what to do next. */
  analyzeExperiment(journal: JsonObject): Promise<AnalystAnswer<ExperimentAnalysis>>;
  /** Ranked failure hypotheses for a topology, each with the experiment (a request body, not yet validated) that tests it. */
  hypotheses(topology: JsonObject, steadyState?: JsonObject): Promise<AnalystAnswer<Hypothesis[]>>;
  /**
   * The HYPOTHESIS phase's prediction for an experiment about to run: the steady state it expects to hold (starting
   * from the rule-based statement) and the impact it predicts while the fault is in place.
   */
  predict(spec: ExperimentSpec, rules: StatedHypothesis): Promise<AnalystAnswer<Prediction>>;
}

/** What the rule-based former states: the hypothesis and one expectation per probe. */
export interface StatedHypothesis {
  statement: string;
  expectations: string[];
}

export interface Prediction extends StatedHypothesis {
  /** What is expected to happen while the fault is in place (errors, latency, recovery), to compare with the outcome. */
  predicted_impact: string[];
}
