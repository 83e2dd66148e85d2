/**
 * Which analyst answers: Claude when an Anthropic API key is configured, the offline rules otherwise. The key comes
 * from `ANTHROPIC_API_KEY` (locally) or from Secrets Manager (in AWS, read by the analysis function); it is never
 * logged and never returned.
 */
import type { Analyst } from './analyst.js';
import type { ClaudeAnalystOptions } from './claude.js';
import { rulesAnalyst } from './rules.js';

export interface AnalystSettings {
  apiKey?: string;
  model?: string;
  baseURL?: string;
  timeoutMs?: number;
  maxRetries?: number;
}

export function analystFor({ apiKey, model, ...options }: AnalystSettings): Analyst {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined && value !== ''));
  return apiKey ? lazyClaude({ apiKey, ...(model ? { model } : {}), ...defined }) : rulesAnalyst;
}

/** Claude, with the Anthropic SDK loaded by the first question rather than by every process that might ask one. */
function lazyClaude(options: ClaudeAnalystOptions): Analyst {
  let built: Promise<Analyst> | undefined;
  const get = () => (built ??= import('./claude.js').then(({ claudeAnalyst }) => claudeAnalyst(options)));
  return {
    source: 'claude',
    experimentFromText: async (prompt) => (await get()).experimentFromText(prompt),
    analyzeExperiment: async (journal) => (await get()).analyzeExperiment(journal),
    hypotheses: async (topology, steadyState) => (await get()).hypotheses(topology, steadyState),
    predict: async (spec, rules) => (await get()).predict(spec, rules),
  };
}

/** From the environment: `ANTHROPIC_API_KEY`, `CHAOSDUCK_ANTHROPIC_MODEL`, and `ANTHROPIC_BASE_URL` (read by the SDK too). */
export function analystFromEnv(env: NodeJS.ProcessEnv = process.env): Analyst {
  return analystFor({ apiKey: env.ANTHROPIC_API_KEY, model: env.CHAOSDUCK_ANTHROPIC_MODEL, baseURL: env.ANTHROPIC_BASE_URL });
}
