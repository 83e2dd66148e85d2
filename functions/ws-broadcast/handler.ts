import { parseBroadcastInput } from '../../shared/websocket/events.js';
import { webSocketHandler, type WebSocketDeps } from '../../shared/websocket/handler.js';
import { broadcastInput } from './core.js';

export const createHandler = (deps: WebSocketDeps) => webSocketHandler(parseBroadcastInput, broadcastInput, deps);
