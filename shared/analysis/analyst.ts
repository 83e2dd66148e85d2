/**
 * The analyst port: who answers the analysis questions. Two adapters give answers of the same shapes: Claude (through
 * the Anthropic API, where a key is configured) and the rules (offline, deterministic; `rules.ts`). Every answer says
 * which analyst made it, the model and the tokens used.
 *
 * An analyst never decides whether a fault may be injected and never runs anything: what it proposes goes through the
 * same validation, guardrails and dry run as a request from a person, and a person submits it.
 */
import type { JsonObject } from '../journal/activity.js';
import type { ExperimentAnalysis } from './findings.js';
import type { Hypothesis } from './hypotheses.js';
import type { TextExperiment } from './nl.js';

export type AnalystSource = 'claude' | 'rules';

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

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
  /** A prompt in any language → the experiment a person would write (not yet validated), with what was read and assumed. */
  experimentFromText(prompt: string): Promise<AnalystAnswer<TextExperiment>>;
  /** What a finished experiment's journal shows: what happened, whether the hypothesis held and why, what to do next. */
  analyzeExperiment(journal: JsonObject): Promise<AnalystAnswer<ExperimentAnalysis>>;
  /** Ranked failure hypotheses for a topology, each with the experiment (a request body, not yet validated) that tests it. */
  hypotheses(topology: JsonObject, steadyState?: JsonObject): Promise<AnalystAnswer<Hypothesis[]>>;
}
