import { parseBroadcastInput } from '../../shared/websocket/events.js';
import { webSocketHandler, type WebSocketDeps } from '../../shared/websocket/handler.js';
import { lambdaWebSocketHandler } from '../../shared/websocket/lambda-deps.js';
import { broadcast } from './core.js';

export const createHandler = (deps: WebSocketDeps) => webSocketHandler(parseBroadcastInput, broadcast, deps);
export const handler = lambdaWebSocketHandler(createHandler);
