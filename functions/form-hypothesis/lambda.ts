/**
 * The Lambda entry point of `form-hypothesis`: its handler, with dependencies built from the environment on the first
 * call. Where the deployer gave Claude a key, ANALYSIS_FUNCTION_NAME names the analysis function, which this task asks
 * for the prediction of an `ai_enabled` experiment (`POST /api/analysis/predict`), so this bundle carries no Anthropic
 * client of its own.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Analyst, AnalystAnswer, Prediction } from '../../shared/analysis/analyst.js';
import { lambdaDeps, lambdaTask } from '../../shared/lifecycle/lambda-deps.js';
import { routeInvoker } from '../../shared/lifecycle/lambda-invoke.js';
import { createHandler } from './handler.js';

/** The prediction as the analysis function answers it. */
export function remotePredictor(client: LambdaClient, functionName: string): Analyst['predict'] {
  const ask = routeInvoker(client, functionName);
  return async (spec) => {
    const { hypothesis, source, model, usage, note } = (await ask('POST', '/api/analysis/predict', spec)) as unknown as AnalystAnswer<Prediction> & { hypothesis: Prediction };
    return { result: hypothesis, source, model, usage, ...(note ? { note } : {}) };
  };
}

export const handler = lambdaTask('HYPOTHESIS', () => {
  const analysis = process.env.ANALYSIS_FUNCTION_NAME;
  return createHandler({ ...lambdaDeps(), ...(analysis ? { predict: remotePredictor(new LambdaClient({}), analysis) } : {}) });
});
