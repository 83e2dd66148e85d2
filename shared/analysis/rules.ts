/**
 * The offline analyst: answers from the journal's statistics and the grammar in `nl.ts`, the same every time, with no
 * network. Most machines (CI included) have no API key; these answers are meant to be useful on their own.
 */
import type { JsonObject } from '../journal/activity.js';
import type { Analyst, AnalystAnswer } from './analyst.js';
import { analyzeJournal, type ExperimentAnalysis } from './findings.js';
import { hypothesesFor, type Hypothesis } from './hypotheses.js';
import { experimentFromText, type TextExperiment } from './nl.js';

const answer = <T>(result: T): AnalystAnswer<T> => ({ result, source: 'rules', model: null, usage: null });

export const rulesAnalyst: Analyst = {
  source: 'rules',
  async experimentFromText(prompt: string): Promise<AnalystAnswer<TextExperiment>> {
    return answer(experimentFromText(prompt));
  },
  async analyzeExperiment(journal: JsonObject): Promise<AnalystAnswer<ExperimentAnalysis>> {
    return answer(analyzeJournal(journal));
  },
  async hypotheses(topology: JsonObject, steadyState?: JsonObject): Promise<AnalystAnswer<Hypothesis[]>> {
    return answer(hypothesesFor(topology, steadyState));
  },
};
