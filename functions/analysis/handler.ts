/**
 * The analysis API (`/api/analysis/*`) and an experiment's report page (`/api/chaos/experiments/{id}/report`): its own
 * function behind API Gateway, as its answers may call Claude (and the report's renderer stays out of the API
 * function's bundle, which carries the Kubernetes client), and the same function behind the local server.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { REPORT_CSP } from '../../shared/analysis/report.js';
import { html, parseBody, pathId, queryOf, respond, restHandler, type ApiHandler } from '../../shared/http/rest.js';
import * as analysis from './core.js';

export function createHandler(deps: analysis.AnalysisDeps): ApiHandler {
  return restHandler([
    { method: 'POST', path: '/api/analysis/experiment/{id}', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.analyzeExperiment(pathId(e), deps)) },
    { method: 'POST', path: '/api/analysis/hypotheses', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.hypotheses(parseBody(e, false), deps)) },
    { method: 'POST', path: '/api/analysis/generate-experiments', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.generateExperiments(parseBody(e, false), deps)) },
    { method: 'POST', path: '/api/analysis/report', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.report(parseBody(e, true), deps)) },
    { method: 'POST', path: '/api/analysis/predict', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.predictExperiment(parseBody(e, true), deps)) },
    { method: 'POST', path: '/api/analysis/nl-experiment', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.nlExperiment(parseBody(e, true), deps)) },
    { method: 'POST', path: '/api/analysis/resilience-score', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.scoreExperiments(parseBody(e, true), deps)) },
    { method: 'GET', path: '/api/analysis/resilience-trend', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.trend(queryOf(e), deps)) },
    { method: 'GET', path: '/api/analysis/resilience-trend/summary', handler: async (e: APIGatewayProxyEvent) => respond(await analysis.trendSummary(queryOf(e), deps)) },
    { method: 'GET', path: '/api/chaos/experiments/{id}/report', handler: async (e: APIGatewayProxyEvent) => html(200, (await analysis.experimentReport(pathId(e), deps)).html, REPORT_CSP) },
  ]);
}
