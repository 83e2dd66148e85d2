/**
 * The REST API's routes by the function that answers them: API Gateway gets one resource per path of each function
 * (infra), the local gateway dispatches the same way (local/server.ts), and GET /openapi.json describes them all.
 */
import * as z from 'zod';
import pkg from '../package.json' with { type: 'json' };
import { openApiDocument, type RouteDoc, type Runtime } from '../shared/http/openapi.js';
import { ANALYSIS_ROUTES } from './analysis/routes.js';
import { API_ROUTES } from './api/routes.js';

/** `api` answers every path no other function claims (API Gateway's root `{proxy+}`); the others, their own paths. */
export const REST_FUNCTIONS = { api: API_ROUTES, analysis: ANALYSIS_ROUTES } as const satisfies Record<string, Record<string, RouteDoc>>;
export type RestFunction = keyof typeof REST_FUNCTIONS;

/** What the local gateway answers itself. In AWS the metrics are CloudWatch's, and the WebSocket API has its own URL. */
export const LOCAL_GATEWAY_ROUTES = {
  metrics: {
    method: 'GET',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'control',
    summary: "The control plane's metrics in Prometheus' text format (in AWS: CloudWatch, namespace ChaosDuck)",
    responses: { 200: { description: 'The metrics', contentType: 'text/plain' } },
  },
  dashboardConfig: {
    method: 'GET',
    path: '/dashboard.json',
    operationId: 'dashboardConfig',
    tag: 'control',
    auth: false,
    summary: "What the dashboard page asks first: which server serves it, where its token comes from, and whether live progress is there",
    description: 'Open without the token, like the page itself: it holds no data. Never cached (`cache-control: no-store`).',
    responses: {
      200: {
        description: 'The dashboard configuration',
        schema: z.strictObject({
          served_by: z.enum(['serve', 'dashboard']).meta({ description: '`serve` (this local server) or `dashboard` (the signing proxy of `chaosduck dashboard`)' }),
          token_hint: z.string().meta({ description: 'Where the token to log in with comes from' }),
          live_progress: z.union([
            z.strictObject({ available: z.literal(true) }),
            z.strictObject({ available: z.literal(false), reason: z.string().meta({ description: 'Why not, and what to do about it' }) }),
          ]),
        }),
      },
    },
  },
} as const satisfies Record<string, RouteDoc>;

/** The paths of a function's routes, as API Gateway resources (`api/chaos/experiments/{id}/report`), once each. */
export function pathsOf(fn: RestFunction): string[] {
  return [...new Set(Object.values(REST_FUNCTIONS[fn]).map((route: RouteDoc) => route.path.slice(1)))];
}

/** The function that answers `path`: the one with a route whose template matches it, else `api`. */
export function restFunctionOf(path: string): RestFunction {
  const parts = path.split('/');
  const matches = (template: string) => {
    const expected = template.split('/');
    return expected.length === parts.length && expected.every((part, i) => (part.startsWith('{') ? parts[i] !== '' : part === parts[i]));
  };
  return (Object.keys(REST_FUNCTIONS) as RestFunction[]).find((fn) => fn !== 'api' && Object.values(REST_FUNCTIONS[fn]).some((route: RouteDoc) => matches(route.path))) ?? 'api';
}

const documents = new Map<Runtime, Record<string, unknown>>();

/**
 * Every route `runtime` serves, described as OpenAPI 3.1: rendered once per runtime, with `servers` set per answer
 * (the address a caller names is theirs to choose, so it is no key to keep documents by).
 */
export function apiDocument(runtime: Runtime, serverUrl?: string): Record<string, unknown> {
  let document = documents.get(runtime);
  if (!document) {
    const routes: RouteDoc[] = [...Object.values(REST_FUNCTIONS).flatMap((routes) => Object.values(routes)), ...(runtime === 'local' ? Object.values(LOCAL_GATEWAY_ROUTES) : [])];
    document = openApiDocument(routes, { runtime, version: pkg.version });
    documents.set(runtime, document);
  }
  if (!serverUrl) return document;
  // `servers` right after `info`, where OpenAPI documents put it.
  const { openapi, info, ...rest } = document;
  return { openapi, info, servers: [{ url: serverUrl }], ...rest };
}
