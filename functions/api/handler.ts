/**
 * The REST API: one function behind API Gateway's proxy integration (IAM authorization on every route but
 * /health), and the same function behind the local server. A middy chain: the JSON error mapper outermost, header
 * normalisation, then the router.
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ChaosDuckError, ValidationError } from '../../shared/errors.js';
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { builtOnFirstCall } from '../../shared/lifecycle/lambda-entry.js';
import { eksTopology, withKubernetes } from '../../shared/lifecycle/lambda-kubernetes.js';
import { awsClientFactory } from '../../shared/faults/aws/clients.js';
import { awsTopology } from '../../shared/faults/aws/topology.js';
import * as api from './core.js';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * Errors become `{error: {code, message, fields?}}`. Client errors (4xx) and the emergency stop's 503 say what went
 * wrong; anything else is logged and answered as a generic 500.
 */
const jsonErrors: middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> = {
  onError: async (request) => {
    const error = request.error;
    if (error instanceof ChaosDuckError && (error.status < 500 || error.status === 503)) {
      const fields = error instanceof ValidationError ? { fields: error.issues } : {};
      request.response = json(error.status, { error: { code: error.code, message: error.message, ...fields } });
    } else if ((error as { statusCode?: number } | null)?.statusCode === 404) {
      request.response = json(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    } else {
      console.error(error);
      request.response = json(500, { error: { code: 'INTERNAL', message: 'internal error' } });
    }
  },
};

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function parseBody(event: APIGatewayProxyEvent, required: boolean): unknown {
  const text = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (!text.trim()) {
    if (required) throw new ValidationError([{ field: 'body', message: 'a JSON body is required' }], 'request');
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError([{ field: 'body', message: `not valid JSON: ${(error as Error).message}` }], 'request');
  }
}

const respond = (result: api.ApiResult) => json(result.status, result.body, result.headers);

export function createHandler(deps: api.ApiDeps): ApiHandler {
  const id = (event: APIGatewayProxyEvent) => decodeURIComponent(event.pathParameters?.id ?? '');
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
      handler: async (e: APIGatewayProxyEvent) => respond(await api.listExperiments({ ...e.queryStringParameters }, deps)),
    },
    { method: 'GET', path: '/api/chaos/experiments/{id}', handler: async (e: APIGatewayProxyEvent) => respond(await api.getExperiment(id(e), deps)) },
    {
      method: 'POST',
      path: '/api/chaos/experiments/{id}/rollback',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.rollbackExperiment(id(e), deps)),
    },
    {
      method: 'GET',
      path: '/api/topology/aws',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.awsTopology({ ...e.queryStringParameters }, deps)),
    },
    {
      method: 'GET',
      path: '/api/topology/k8s',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.k8sTopology({ ...e.queryStringParameters }, deps)),
    },
    {
      method: 'GET',
      path: '/api/topology/combined',
      handler: async (e: APIGatewayProxyEvent) => respond(await api.combinedTopology({ ...e.queryStringParameters }, deps)),
    },
    { method: 'POST', path: '/api/chaos/dry-run', handler: async (e: APIGatewayProxyEvent) => respond(await api.dryRunExperiment(parseBody(e, true), deps)) },
  ] as const;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(jsonErrors)
    .use(httpHeaderNormalizer())
    .handler(httpRouterHandler(routes as never) as never) as unknown as ApiHandler;
}

export const handler: ApiHandler = builtOnFirstCall(() => {
  const clients = awsClientFactory();
  const tagKey = process.env.CHAOS_TAG_KEY;
  // Kubernetes through EKS: dry runs of kubernetes experiments, and the k8s topology of a cluster named by `cluster`.
  const deps = withKubernetes(lambdaControl());
  return createHandler({ ...deps, topology: { aws: (region) => awsTopology(clients, { region, tagKey }), k8s: eksTopology(deps.kube) } });
});
