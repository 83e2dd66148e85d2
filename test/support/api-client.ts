/** The local server's REST API as a client calls it: the bearer token, JSON in, JSON out. */

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

/** A body given as a string is sent as it is (malformed JSON, say); anything else as JSON. */
export type ApiCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiAnswer>;

/** `baseUrl` is read at each call: servers are started after the tests' modules are loaded. */
export function apiClient(baseUrl: () => string, token: string): ApiCall {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
  };
}
