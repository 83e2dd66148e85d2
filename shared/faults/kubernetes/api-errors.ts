/**
 * What a failed Kubernetes API call says, from the client's ApiException (`code`, and `body` holding the server's
 * `Status` as JSON): shared by the faults and the `k8s` probe so every message names the server's reason.
 */

/** The HTTP status of a failed API call, if it was one. */
export function kubeStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's own message (`pods "web-1" is forbidden: …`), else the error's. */
export function kubeErrorMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      return body.slice(0, 200);
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  // Not always an Error: a refused WebSocket handshake (exec) rejects with the socket's ErrorEvent.
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** The call's result, or undefined when the object does not exist (404). */
export async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (kubeStatus(error) === 404) return undefined;
    throw error;
  }
}
