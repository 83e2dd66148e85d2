/** The target of a request to the local gateway (REST or WebSocket upgrade), read as API Gateway reads it. */
import type { IncomingMessage } from 'node:http';

/**
 * The request's target as a URL, or undefined when it is not one. A path is read as a path: `//x/health` is the path
 * `//x/health`, not host x's `/health`.
 */
export function requestUrl(req: IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  try {
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target);
  } catch {
    return undefined;
  }
}
