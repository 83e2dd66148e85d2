/**
 * One control-plane function asking another's REST route through Lambda Invoke, as API Gateway would call it: the
 * analysis function asks the API function for dry runs and the topology, and the HYPOTHESIS task asks the analysis
 * function for Claude's prediction. IAM grants each exactly that function (infra/capabilities.ts).
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ChaosDuckError } from '../errors.js';
import type { JsonObject } from '../journal/activity.js';

/** What a REST function answered with an error: its status, code and message, as the API would have said them. */
export class ApiAnswerError extends ChaosDuckError {
  override readonly name = 'ApiAnswerError';
  constructor(
    readonly status: number,
    private readonly answerCode: string,
    message: string,
  ) {
    super(message);
  }
  override get code(): string {
    return this.answerCode;
  }
}

/** Asks another REST function a route, with an API Gateway proxy event, and returns its JSON body (or throws its error). */
export function routeInvoker(client: LambdaClient, functionName: string) {
  return async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<JsonObject> => {
    const event = {
      httpMethod: method,
      path,
      resource: '/{proxy+}',
      headers: { 'content-type': 'application/json' },
      queryStringParameters: null,
      pathParameters: { proxy: path.replace(/^\//, '') },
      body: body === undefined ? null : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { requestId: 'chaosduck-internal', httpMethod: method, path, resourcePath: '/{proxy+}' },
    };
    const { Payload, FunctionError } = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    const answer = JSON.parse(new TextDecoder().decode(Payload ?? new Uint8Array())) as { statusCode?: number; body?: string; errorMessage?: string };
    if (FunctionError) throw new Error(`${functionName} failed (${FunctionError}): ${answer.errorMessage ?? 'no message'}`);
    const parsed = JSON.parse(answer.body ?? '{}') as JsonObject & { error?: { code?: string; message?: string } };
    if ((answer.statusCode ?? 500) >= 300) throw new ApiAnswerError(answer.statusCode ?? 500, parsed.error?.code ?? 'API_ERROR', parsed.error?.message ?? 'the function answered an error');
    return parsed;
  };
}

