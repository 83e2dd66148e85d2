/**
 * The Lambda entry point of `analysis`: its handler with dependencies built from the environment on the first call.
 *
 * - The store: DynamoDB (TABLE_NAME).
 * - The analyst: Claude when ANTHROPIC_SECRET_ARN names a secret holding the key (read once, never logged, never
 *   returned), bounded to fit API Gateway's 29 s; the offline analyst otherwise.
 * - Dry runs and the topology: asked of the API function (API_FUNCTION_NAME) as a client would ask them, so this
 *   function carries neither the fault drivers nor the Kubernetes client, and every plan is the API's own.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Analyst } from '../../shared/analysis/analyst.js';
import { analystFor } from '../../shared/analysis/configure.js';
import { rulesAnalyst } from '../../shared/analysis/rules.js';
import type { ApiHandler } from '../../shared/http/rest.js';
import { guardrailsFromEnv } from '../../shared/lifecycle/config.js';
import { routeInvoker } from '../../shared/lifecycle/lambda-invoke.js';
import { required } from '../../shared/lifecycle/lambda-entry.js';
import { log } from '../../shared/observability/log.js';
import { observedRest } from '../../shared/observability/lambda.js';
import { DynamoDbStore } from '../../shared/store/dynamodb.js';
import type { AnalysisDeps } from './core.js';
import { createHandler } from './handler.js';

/** The key from the secret: the whole secret string, or its `ANTHROPIC_API_KEY` / `api_key` field when it is JSON. */
export function keyOf(secret: string): string {
  try {
    const fields = JSON.parse(secret) as Record<string, unknown>;
    const key = fields.ANTHROPIC_API_KEY ?? fields.api_key;
    if (typeof key === 'string' && key !== '') return key;
  } catch {
    // not JSON: the secret string is the key
  }
  return secret.trim();
}

/** Claude when the secret reads; the offline analyst (and one log line naming the failure, not the secret) otherwise. */
export async function lambdaAnalyst(secrets: SecretsManagerClient, secretArn: string | undefined, model: string | undefined): Promise<Analyst> {
  if (!secretArn) return rulesAnalyst;
  try {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!SecretString) throw new Error('the secret has no string value');
    return analystFor({ apiKey: keyOf(SecretString), model, timeoutMs: 10_000, maxRetries: 1 });
  } catch (error) {
    log.error('the Anthropic key could not be read; the offline analyst answers', { secret: secretArn, error: error instanceof Error ? error.name : 'unknown' });
    return rulesAnalyst;
  }
}

let built: Promise<ApiHandler> | undefined;

/**
 * Built on the first invocation (the key read once) and kept for the container; a failed build is tried again next
 * time. Each request is logged (`observedRest`).
 */
export const handler: ApiHandler = observedRest(async (event, context) => {
  built ??= build().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return (await built)(event, context);
});

async function build(): Promise<ApiHandler> {
  const api = routeInvoker(new LambdaClient({}), required('API_FUNCTION_NAME'));
  const deps: AnalysisDeps = {
    store: new DynamoDbStore({ client: new DynamoDBClient({}), tableName: required('TABLE_NAME') }),
    analyst: await lambdaAnalyst(new SecretsManagerClient({}), process.env.ANTHROPIC_SECRET_ARN, process.env.CHAOSDUCK_ANTHROPIC_MODEL),
    dryRun: (experiment) => api('POST', '/api/chaos/dry-run', experiment),
    topology: () => api('GET', '/api/topology/combined'),
    runtime: 'lambda',
    guardrails: guardrailsFromEnv(),
  };
  return createHandler(deps);
}
