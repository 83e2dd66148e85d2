/** The Lambda entry point of `ws-broadcast`: its handler, with dependencies built from the environment on the first call. */
import { lambdaWebSocketHandler } from '../../shared/websocket/lambda-deps.js';
import { createHandler } from './handler.js';

export const handler = lambdaWebSocketHandler(createHandler);
