/**
 * Sending to one WebSocket connection: API Gateway's Management API in AWS, the open sockets of the local gateway
 * (`local/ws-gateway.ts`). A connection that has gone away is an answer, not an error: its owner deletes it.
 */
import { GoneException, PostToConnectionCommand, type ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';

export type PostResult = 'sent' | 'gone';

export interface ConnectionSender {
  post(connectionId: string, data: string): Promise<PostResult>;
}

export function apiGatewaySender(client: ApiGatewayManagementApiClient): ConnectionSender {
  return {
    async post(connectionId, data) {
      try {
        await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
        return 'sent';
      } catch (error) {
        if (error instanceof GoneException) return 'gone';
        throw error;
      }
    },
  };
}
