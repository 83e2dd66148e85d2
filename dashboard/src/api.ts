/**
 * The dashboard's API client: every call names an operation of the OpenAPI document (`listExperiments`, `dryRun`, …),
 * whose method and path it reads from GET /openapi.json, the server's own description of its routes, so the page
 * calls what the server serves. The operation ids are typed from the route descriptions the server is built from
 * (functions/api/routes.ts, functions/analysis/routes.ts), so a misspelt one does not compile.
 *
 * Every call carries the bearer token; a 401 tells `onUnauthorized` (the shell sends the person back to log in), and
 * connect() itself throws one for a token the server refuses.
 * Errors come as `ApiError`, with the API's `code`, `message` and `fields` (each bad field named, as the API names it).
 *
 * @example
 * const api = await connect(token, { onUnauthorized: () => logOut('the token was refused') });
 * const page = await api.call<ExperimentPage>('listExperiments', { query: { status: 'running', limit: 20 } });
 */
import type { ANALYSIS_ROUTES } from '../../functions/analysis/routes.js';
import type { API_ROUTES } from '../../functions/api/routes.js';
import type { EmergencyStop } from '../../shared/store/store.js';

type Routes = typeof API_ROUTES & typeof ANALYSIS_ROUTES;
export type OperationId = Routes[keyof Routes]['operationId'];

export interface FieldIssue {
  field: string;
  message: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** The HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldIssue[] = [],
  ) {
    super(message);
  }
}

export interface CallOptions {
  /** The path's parameters (`{id}`). */
  path?: Record<string, string>;
  /** Left out when undefined or empty. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A JSON Schema as the OpenAPI document has it (3.1: JSON Schema 2020-12). */
export type Schema = { [key: string]: unknown };

export interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; parameters?: { name: string; in: string; schema?: Schema }[] }>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Api {
  /** Calls an operation and answers its JSON body; a status of 400 or more throws an ApiError. */
  call<T = unknown>(operation: OperationId, options?: CallOptions): Promise<T>;
  /** Calls an operation and answers its body as text (the report page). */
  text(operation: OperationId, options?: CallOptions): Promise<string>;
  /** The status and JSON body, for operations whose success comes in more than one shape (a dry run answered by a create). */
  exchange<T = unknown>(operation: OperationId, options?: CallOptions): Promise<{ status: number; body: T }>;
  /** The server's OpenAPI document: its routes, and the schemas of what they take (the experiment form is built from them). */
  readonly document: OpenApiDocument;
  /** The bearer token (the WebSocket feed sends it too). */
  readonly token: string;
}

export interface ConnectOptions {
  /** Where the API is; the page's own server when left out (`serve`, or the signing proxy of `chaosduck dashboard`). */
  base?: string;
  /** Told of every 401, before the call throws. */
  onUnauthorized?: (error: ApiError) => void;
}

/** Reads the server's OpenAPI document with `token`: the token is checked (a 401 throws) and the routes known. */
export async function connect(token: string, { base = '', onUnauthorized }: ConnectOptions = {}): Promise<Api> {
  let connected = false;
  const send = async (method: string, url: string, options: CallOptions): Promise<Response> => {
    let response: Response;
    try {
      response = await fetch(`${base}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(0, 'UNREACHABLE', `the server could not be reached (${(error as Error).message})`);
    }
    if (response.status >= 400) {
      const failure = await errorOf(response);
      // Once connected: a refusal of the token connect() was given is the caller's to handle.
      if (response.status === 401 && connected) onUnauthorized?.(failure);
      throw failure;
    }
    return response;
  };

  const document = (await (await send('GET', '/openapi.json', {})).json()) as OpenApiDocument;
  connected = true;
  const routes = new Map<string, { method: string; path: string }>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation.operationId) routes.set(operation.operationId, { method: method.toUpperCase(), path });
    }
  }
  const request = (operation: OperationId, options: CallOptions = {}) => {
    const route = routes.get(operation);
    if (!route) throw new ApiError(0, 'UNKNOWN_OPERATION', `the server does not describe the operation ${operation}`);
    return send(route.method, urlOf(route.path, options), options);
  };
  return {
    document,
    token,
    call: async <T>(operation: OperationId, options?: CallOptions) => (await (await request(operation, options)).json()) as T,
    text: async (operation, options) => (await request(operation, options)).text(),
    exchange: async <T>(operation: OperationId, options?: CallOptions) => {
      const response = await request(operation, options);
      return { status: response.status, body: (await response.json()) as T };
    },
  };
}

/** A path template filled in (`/api/chaos/experiments/{id}`), with its query string. */
export function urlOf(template: string, { path = {}, query = {} }: Pick<CallOptions, 'path' | 'query'>): string {
  const filled = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = path[name];
    if (value === undefined) throw new ApiError(0, 'MISSING_PATH_PARAMETER', `${template} needs its ${name}`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `${filled}?${text}` : filled;
}

/** The API's error body as an ApiError; a body that is not one still says the status. */
async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string; fields?: FieldIssue[] } };
    if (error?.message) return new ApiError(response.status, error.code ?? 'ERROR', error.message, error.fields ?? []);
  } catch {
    // not JSON: said below
  }
  return new ApiError(response.status, 'HTTP_ERROR', `the server answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

/** GET /health, which needs no token: whether the server is up and the emergency stop is on (shown before logging in too). */
export async function readHealth(base = ''): Promise<Health> {
  const response = await fetch(`${base}/health`);
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as Health;
}

export type { EmergencyStop };

export interface Health {
  status: 'ok';
  runtime: string;
  emergency_stop: EmergencyStop;
}
