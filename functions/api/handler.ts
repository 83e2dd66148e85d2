/**
 * The REST API: one function behind API Gateway's proxy integration (IAM authorization on every route but
 * /health), and the same function behind the local server (its HTTP layer: shared/http/rest.ts).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parseBody, pathId, queryOf, respond, restHandler, type ApiHandler } from '../../shared/http/rest.js';
import * as api from './core.js';

export type { ApiHandler };

export function createHandler(deps: api.ApiDeps): ApiHandler {
  const routes = [
    { method: 'GET', path: '/health', handler: async () => respond(await api.health(deps)) },
    { method: 'POST', path: '/emergency-stop', handler: async (e: APIGatewayProxyEvent) => respond(await api.emergencyStop(parseBody(e, false), deps)) },
    { method: 'DELETE', path: '/emergency-stop', handler: async () => respond(await api.liftStop(deps)) },
    {
      method: 'POST',
      path: '/api/chaos/experiments',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.createExperiment(parseBody(e, true), e.headers['idempotency-key'], deps)),
    },
    {
      method: 'GET',
      path: '/api/chaos/experiments',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.listExperiments(queryOf(e), deps)),
    },
    { method: 'GET', path: '/api/chaos/experiments/{id}', handler: async (e: APIGatewayProxyEvent) => respond(await api.getExperiment(pathId(e), deps)) },
    {
      method: 'POST',
      path: '/api/chaos/experiments/{id}/rollback',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.rollbackExperiment(pathId(e), deps)),
    },
    {
      method: 'GET',
      path: '/api/topology/aws',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.awsTopology(queryOf(e), deps)),
    },
    {
      method: 'GET',
      path: '/api/topology/k8s',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.k8sTopology(queryOf(e), deps)),
    },
    {
      method: 'GET',
      path: '/api/topology/combined',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.combinedTopology(queryOf(e), deps)),
    },
    {
      method: 'GET',
      path: '/api/topology/steady-state',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.steadyState(queryOf(e), deps)),
    },
    { method: 'POST', path: '/api/chaos/dry-run', handler: async (e: APIGatewayProxyEvent) => respond(await api.dryRunExperiment(parseBody(e, true), deps)) },
  ] as const;
  return restHandler(routes);
}
