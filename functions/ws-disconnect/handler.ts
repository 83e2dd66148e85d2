import { routeEventSchema } from '../../shared/websocket/events.js';
import { parseWith, webSocketHandler, type WebSocketDeps } from '../../shared/websocket/handler.js';
import { disconnect } from './core.js';

export const createHandler = (deps: WebSocketDeps) => webSocketHandler(parseWith(routeEventSchema, 'WebSocket event'), disconnect, deps);
