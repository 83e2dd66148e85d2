/**
 * The REST API described once. Each route is a `RouteDoc`: its method and path, the zod schemas its core validates
 * the request with, and what it answers. The routers are built from these (`restHandler` takes `route(doc, handler)`)
 * and `GET /openapi.json` renders them with zod-openapi, so the document cannot list a route the router lacks or
 * miss one it has; test/e2e/openapi.test.ts checks that they also agree on what each route accepts and answers.
 */
import * as z from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ResponseDoc {
  description: string;
  /** The body's shape when it has a fixed one; a JSON object otherwise. */
  schema?: z.ZodType;
  /** @default 'application/json' */
  contentType?: string;
}

export interface RouteDoc {
  method: HttpMethod;
  /** As API Gateway writes it: `/api/chaos/experiments/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** The one route open without credentials is `GET /health`. @default true */
  auth?: boolean;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: { schema: z.ZodType; required: boolean; description?: string };
  /** The answers this route gives on success and the errors particular to it; the common errors are added to every route. */
  responses: Record<number, ResponseDoc>;
}

/**
 * Every error the API gives, whatever the route: what went wrong; for bad input each field and its problem, and for a
 * guardrail's refusal that a setting would let through (409 BLAST_RADIUS_EXCEEDED), that setting and the value it needs.
 */
export const errorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.string().meta({ description: 'VALIDATION, NOT_FOUND, CONFLICT, UNAUTHORIZED, EMERGENCY_STOP, INTERNAL, …' }),
      message: z.string(),
      fields: z
        .array(z.strictObject({ field: z.string().meta({ description: 'The field, as a path: `target.labels`, `probes[0].properties.url`' }), message: z.string() }))
        .optional()
        .meta({ description: 'Bad input (400): each bad field. A guardrail refusal a setting would lift (409): that setting, e.g. `safety.max_blast_radius`, and the least value that allows the selection' }),
    }),
  })
  .meta({ id: 'Error' });

/** The experiment id in a path: `exp-<uuid>`. */
export const experimentIdParam = z.strictObject({ id: z.string().meta({ description: 'The experiment id (`exp-<uuid>`)', example: 'exp-0b6f1d1e-2f43-4c55-9a1e-6f1c8d1a2b3c' }) });

export type Runtime = 'local' | 'lambda';

export interface DocumentOptions {
  runtime: Runtime;
  version: string;
}

/**
 * The OpenAPI 3.1 document of `routes` as `runtime` serves them: its security scheme is the one that runtime checks.
 * Where it answers (`servers`) is the caller's, set per answer (functions/rest.ts `apiDocument`).
 */
export function openApiDocument(routes: readonly RouteDoc[], { runtime, version }: DocumentOptions): Record<string, unknown> {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase() as 'get'] = operation(route, runtime);
  }
  const document = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'ChaosDuck control plane',
      version,
      description:
        'Chaos experiments with a five-phase lifecycle (STEADY_STATE → HYPOTHESIS → INJECT → OBSERVE → ROLLBACK). Bad input is answered 400 with every bad field named; nothing half-written is stored.',
    },
    paths,
    components: { securitySchemes: { [SECURITY[runtime].name]: SECURITY[runtime].scheme } },
  });
  return document as unknown as Record<string, unknown>;
}

/** Locally the bearer token `serve` prints; in AWS, SigV4 signatures checked by API Gateway (IAM authorization). */
const SECURITY = {
  local: { name: 'bearerToken', scheme: { type: 'http', scheme: 'bearer', description: 'The token `chaosduck serve` prints (or CHAOSDUCK_TOKEN)' } },
  lambda: {
    name: 'sigv4',
    scheme: {
      type: 'apiKey',
      name: 'Authorization',
      in: 'header',
      description: 'AWS Signature Version 4 with credentials of this account allowed execute-api:Invoke (IAM authorization)',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    },
  },
} as const;

function operation(route: RouteDoc, runtime: Runtime): ZodOpenApiOperationObject {
  const hasId = route.path.includes('{id}');
  const takesInput = hasId || route.query !== undefined || route.body !== undefined || route.headers !== undefined;
  const errors: Record<number, ResponseDoc> = {};
  if (takesInput) errors[400] = { description: 'Bad input: every bad field is named in `error.fields`' };
  if (route.auth !== false && runtime === 'local') errors[401] = { description: 'No valid bearer token' };
  if (route.auth !== false && runtime === 'lambda') {
    errors[403] = { description: 'Not signed, or signed by a principal without execute-api:Invoke (API Gateway answers)', schema: z.looseObject({ message: z.string() }) };
  }
  if (hasId) errors[404] = { description: 'No such experiment' };
  errors[500] = { description: 'Internal error (logged; the answer says no more)' };
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, doc] of Object.entries({ ...errors, ...route.responses })) {
    const contentType = doc.contentType ?? 'application/json';
    const schema = doc.schema ?? (contentType !== 'application/json' ? z.string() : Number(status) >= 400 ? errorBody : z.looseObject({}));
    responses[status as '200'] = { description: doc.description, content: { [contentType]: { schema } } };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(route.auth === false ? { security: [] } : { security: [{ [SECURITY[runtime].name]: [] }] }),
    requestParams: {
      ...(hasId ? { path: experimentIdParam } : {}),
      ...(route.query ? { query: route.query } : {}),
      ...(route.headers ? { header: route.headers } : {}),
    },
    ...(route.body
      ? { requestBody: { required: route.body.required, ...(route.body.description ? { description: route.body.description } : {}), content: { 'application/json': { schema: route.body.schema } } } }
      : {}),
    responses,
  };
}
