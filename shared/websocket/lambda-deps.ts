/**
 * The WebSocket functions' dependencies in Lambda, from the environment (TABLE_NAME, WS_ENDPOINT), built on the first
 * invocation and kept for the container. The Management API client is made on the first post, so $connect and
 * $disconnect, which never post, do not need WS_ENDPOINT.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { builtOnFirstCall, required } from '../lifecycle/lambda-entry.js';
import { observed, stringAt } from '../observability/lambda.js';
import { DynamoDbConnectionStore } from '../store/dynamodb-connections.js';
import type { LambdaHandler, WebSocketDeps } from './handler.js';
import { apiGatewaySender, type ConnectionSender } from './sender.js';


function lambdaWebSocketDeps(): WebSocketDeps {
  let sender: ConnectionSender | undefined;
  return {
    connections: new DynamoDbConnectionStore({ client: new DynamoDBClient({}), tableName: required('TABLE_NAME') }),
    sender: {
      post: (connectionId, data) => {
        // WS_ENDPOINT is the API's https://<api-id>.execute-api.<region>.amazonaws.com/<stage> (or its custom domain).
        sender ??= apiGatewaySender(new ApiGatewayManagementApiClient({ endpoint: required('WS_ENDPOINT') }));
        return sender.post(connectionId, data);
      },
    },
  };
}

/** A WebSocket function: the route's log lines carry the connection and API Gateway's request id (the broadcast's, none). */
export function lambdaWebSocketHandler<O>(create: (deps: WebSocketDeps) => LambdaHandler<O>): LambdaHandler<O> {
  return observed(builtOnFirstCall(() => create(lambdaWebSocketDeps())), (event) => ({
    connection_id: stringAt(event, 'requestContext', 'connectionId'),
    request_id: stringAt(event, 'requestContext', 'requestId'),
  }));
}
