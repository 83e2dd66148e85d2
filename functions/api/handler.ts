/**
 * The REST API: one function behind API Gateway's proxy integration (IAM authorization on every route but
 * /health), and the same function behind the local server (its HTTP layer: shared/http/rest.ts). Its routes are
 * described in routes.ts; each is answered here by the core of the same name.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describedHandler, parseBody, pathId, queryOf, respond, type ApiHandler } from '../../shared/http/rest.js';
import * as api from './core.js';
import { API_ROUTES } from './routes.js';

export type { ApiHandler };

export function createHandler(deps: api.ApiDeps): ApiHandler {
  return describedHandler(API_ROUTES, {
    health: async () => respond(await api.health(deps)),
    emergencyStop: async (e: APIGatewayProxyEvent) => respond(await api.emergencyStop(parseBody(e, false), deps)),
    liftStop: async () => respond(await api.liftStop(deps)),
    createExperiment: async (e: APIGatewayProxyEvent) => respond(await api.createExperiment(parseBody(e, true), e.headers['idempotency-key'], deps)),
    listExperiments: async (e: APIGatewayProxyEvent) => respond(await api.listExperiments(queryOf(e), deps)),
    getExperiment: async (e: APIGatewayProxyEvent) => respond(await api.getExperiment(pathId(e), deps)),
    rollbackExperiment: async (e: APIGatewayProxyEvent) => respond(await api.rollbackExperiment(pathId(e), deps)),
    dryRun: async (e: APIGatewayProxyEvent) => respond(await api.dryRunExperiment(parseBody(e, true), deps)),
    awsTopology: async (e: APIGatewayProxyEvent) => respond(await api.awsTopology(queryOf(e), deps)),
    k8sTopology: async (e: APIGatewayProxyEvent) => respond(await api.k8sTopology(queryOf(e), deps)),
    steadyState: async (e: APIGatewayProxyEvent) => respond(await api.steadyState(queryOf(e), deps)),
    combinedTopology: async (e: APIGatewayProxyEvent) => respond(await api.combinedTopology(queryOf(e), deps)),
  });
}
