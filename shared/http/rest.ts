/**
 * The REST functions' shared HTTP layer, the same behind API Gateway's proxy integration and behind the local server:
 * a middy chain (the JSON error mapper outermost, header normalisation, then the router), JSON bodies parsed with
 * limits, path and query parameters, and results turned into responses.
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ChaosDuckError, GuardrailError, ValidationError } from '../errors.js';
import { log } from '../observability/log.js';
import { CorruptRecordError } from '../store/records.js';
import type { RouteDoc } from './openapi.js';

/** What a route's core answers: a status, a JSON body, and headers. */
export interface ApiResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const ok = (body: unknown, status = 200, headers?: Record<string, string>): ApiResult => ({ status, body, ...(headers ? { headers } : {}) });

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * Errors become `{error: {code, message, fields?}}`. Client errors (4xx) and the emergency stop's 503 say what went
 * wrong; anything else is logged and answered as a generic 500.
 */
const jsonErrors: middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> = {
  onError: async (request) => {
    const error = request.error;
    // A corrupt stored item is the operator's to look at: its key is named, as it names nothing secret.
    if (error instanceof ChaosDuckError && (error.status < 500 || error.status === 503 || error instanceof CorruptRecordError)) {
      // Bad input names each bad field; a guardrail's refusal, the setting that would let the experiment through.
      const issues = error instanceof ValidationError ? error.issues : error instanceof GuardrailError ? error.fields : undefined;
      const fields = issues && issues.length > 0 ? { fields: issues } : {};
      request.response = json(error.status, { error: { code: error.code, message: error.message, ...fields } });
    } else if ((error as { statusCode?: number } | null)?.statusCode === 404) {
      request.response = json(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    } else {
      log.error('internal error, answered as a generic 500', { error, path: request.event.path, experiment_id: request.event.pathParameters?.id });
      request.response = json(500, { error: { code: 'INTERNAL', message: 'internal error' } });
    }
  },
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/**
 * An HTML page as the answer: its content type, and a Content-Security-Policy made of what the page itself allows
 * (`csp`; for the report, nothing but its inline styles: its charts are inline SVG, no script, nothing to fetch) and
 * `frame-ancestors 'none'`, which only a header can say, so no other site can frame it.
 */
export function html(statusCode: number, body: string, csp: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': `${csp}; frame-ancestors 'none'`, 'x-content-type-options': 'nosniff' },
    body,
  };
}

export function parseBody(event: APIGatewayProxyEvent, required: boolean): unknown {
  const text = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (!text.trim()) {
    if (required) throw new ValidationError([{ field: 'body', message: 'a JSON body is required' }], 'request');
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ValidationError([{ field: 'body', message: `not valid JSON: ${(error as Error).message}` }], 'request');
  }
  // No request is this deep; refusing it here keeps every later walk over the body far from the stack's limit.
  if (depthOf(body) > MAX_BODY_DEPTH) throw new ValidationError([{ field: 'body', message: `nested deeper than ${MAX_BODY_DEPTH} levels` }], 'request');
  return body;
}

const MAX_BODY_DEPTH = 32;

/** How deeply arrays and objects nest in a parsed body, counted without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_BODY_DEPTH) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export const respond = (result: ApiResult) => json(result.status, result.body, result.headers);

/** The `{id}` path parameter, percent-decoded. */
export function pathId(event: APIGatewayProxyEvent): string {
  try {
    return decodeURIComponent(event.pathParameters?.id ?? '');
  } catch {
    throw new ValidationError([{ field: 'id', message: 'not a valid percent-encoded path segment' }], 'request');
  }
}

/** Query parameters as an object of their own, whatever their names (`__proto__` included). */
export const queryOf = (event: APIGatewayProxyEvent): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(event.queryStringParameters ?? {}));


/**
 * The function for described routes (shared/http/openapi.ts): one handler per description, under the same name, so
 * the compiler holds a route to being both described and answered, and the OpenAPI document to the router.
 */
export function describedHandler<D extends Record<string, RouteDoc>>(docs: D, handlers: { [K in keyof D]: Route['handler'] }): ApiHandler {
  return restHandler(Object.entries(docs).map(([name, { method, path }]) => ({ method, path, handler: handlers[name as keyof D] })));
}

/** The function for a list of routes: errors mapped to JSON, headers normalised, then the route. */
export function restHandler(routes: readonly Route[]): ApiHandler {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(jsonErrors)
    .use(httpHeaderNormalizer())
    .handler(httpRouterHandler(routes as never) as never) as unknown as ApiHandler;
}
