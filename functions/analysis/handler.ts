/**
 * The analysis API (`/api/analysis/*`), an experiment's report page (`/api/chaos/experiments/{id}/report`) and the
 * OpenAPI document: their own function behind API Gateway, as its answers may call Claude (and the report's renderer
 * stays out of the API function's bundle, which carries the Kubernetes client), and the same function behind the
 * local server. Its routes are described in routes.ts; each is answered here by the core of the same name.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { REPORT_CSP } from '../../shared/analysis/report.js';
import { describedHandler, html, parseBody, pathId, queryOf, respond, type ApiHandler } from '../../shared/http/rest.js';
import * as analysis from './core.js';
import { ANALYSIS_ROUTES } from './routes.js';

export function createHandler(deps: analysis.AnalysisDeps): ApiHandler {
  return describedHandler(ANALYSIS_ROUTES, {
    openApi: async (e: APIGatewayProxyEvent) => respond(analysis.openApi(serverUrlOf(e), deps)),
    analyzeExperiment: async (e: APIGatewayProxyEvent) => respond(await analysis.analyzeExperiment(pathId(e), deps)),
    hypotheses: async (e: APIGatewayProxyEvent) => respond(await analysis.hypotheses(parseBody(e, false), deps)),
    generateExperiments: async (e: APIGatewayProxyEvent) => respond(await analysis.generateExperiments(parseBody(e, false), deps)),
    report: async (e: APIGatewayProxyEvent) => respond(await analysis.report(parseBody(e, true), deps)),
    predict: async (e: APIGatewayProxyEvent) => respond(await analysis.predictExperiment(parseBody(e, true), deps)),
    nlExperiment: async (e: APIGatewayProxyEvent) => respond(await analysis.nlExperiment(parseBody(e, true), deps)),
    resilienceScore: async (e: APIGatewayProxyEvent) => respond(await analysis.scoreExperiments(parseBody(e, true), deps)),
    resilienceTrend: async (e: APIGatewayProxyEvent) => respond(await analysis.trend(queryOf(e), deps)),
    experimentReport: async (e: APIGatewayProxyEvent) => html(200, (await analysis.experimentReport(pathId(e), deps)).html, REPORT_CSP),
    resilienceTrendSummary: async (e: APIGatewayProxyEvent) => respond(await analysis.trendSummary(queryOf(e), deps)),
  });
}

/**
 * Where the caller reached the API: API Gateway's stage URL (its domain and stage), or the local server's address
 * (its Host header). A document without it would point clients at the host's root, past API Gateway's stage.
 */
function serverUrlOf(event: APIGatewayProxyEvent): string | undefined {
  const { domainName, stage } = event.requestContext;
  if (domainName) return `https://${domainName}/${stage}`;
  const host = event.headers.host;
  return host && /^[\w.:[\]-]+$/.test(host) ? `http://${host}` : undefined;
}
