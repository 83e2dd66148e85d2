/**
 * $connect: stores the connection with its first subscription — the `experimentId` query parameter, or every
 * experiment when there is none. A bad parameter refuses the connection (400) rather than storing what no event
 * could ever match.
 */
import { ValidationError, fieldIssues } from '../../shared/errors.js';
import { ALL_EXPERIMENTS } from '../../shared/websocket/connections.js';
import type { RouteEvent, RouteResponse } from '../../shared/websocket/events.js';
import type { WebSocketDeps } from '../../shared/websocket/handler.js';
import { connectQuerySchema, errorMessageFor } from '../../shared/websocket/messages.js';

export async function connect(event: RouteEvent, deps: Pick<WebSocketDeps, 'connections'>): Promise<RouteResponse> {
  const query = connectQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) {
    const error = new ValidationError(fieldIssues(query.error.issues), 'connection request');
    return { statusCode: 400, body: JSON.stringify(errorMessageFor(error)) };
  }
  await deps.connections.connect(event.requestContext.connectionId, [query.data.experimentId ?? ALL_EXPERIMENTS]);
  return { statusCode: 200 };
}
