/**
 * The analysis function's AWS side: the Anthropic key read from Secrets Manager (moto, over real HTTP) — Claude when
 * it reads, the offline analyst and one log line naming the failure (never the secret) when not — and dry runs asked
 * of the API function through Lambda's Invoke, here a FAKE Lambda endpoint (real HTTP, the Invoke wire format) that
 * runs the real API handler over an embedded runtime, since moto runs Lambda code only in Docker.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHandler as createAnalysisHandler } from '../../functions/analysis/handler.js';
import { keyOf, lambdaAnalyst } from '../../functions/analysis/lambda.js';
import { ApiAnswerError, routeInvoker as apiInvoker } from '../../shared/lifecycle/lambda-invoke.js';
import { createHandler as createApiHandler } from '../../functions/api/handler.js';
import { LocalRuntime } from '../../local/runtime.js';
import { rulesAnalyst } from '../../shared/analysis/rules.js';
import { ruleBasedHypothesis } from '../../shared/analysis/prediction.js';
import { validateExperiment } from '../../shared/lifecycle/control.js';
import { logger, powertoolsLog } from '../../shared/observability/lambda.js';
import { setLogSink } from '../../shared/observability/log.js';
import { remotePredictor } from '../../functions/form-hypothesis/lambda.js';
import { MemoryDriver } from '../support/memory-driver.js';
import { MOTO_SETUP_TIMEOUT_MS, motoClientConfig, startMoto, type Moto } from '../support/moto.js';

describe('the Anthropic key from Secrets Manager', () => {
  let moto: Moto;
  let secrets: SecretsManagerClient;
  beforeAll(async () => {
    moto = await startMoto();
    secrets = new SecretsManagerClient(motoClientConfig(moto.endpoint));
  }, MOTO_SETUP_TIMEOUT_MS);
  afterAll(async () => moto?.stop());

  it('takes the secret string as the key, or its ANTHROPIC_API_KEY / api_key field', () => {
    expect(keyOf('sk-ant-plain\n')).toBe('sk-ant-plain');
    expect(keyOf('{"ANTHROPIC_API_KEY": "sk-ant-json"}')).toBe('sk-ant-json');
    expect(keyOf('{"api_key": "sk-ant-field"}')).toBe('sk-ant-field');
  });

  it('asks Claude when the secret reads, and answers offline without one', async () => {
    const { ARN } = await secrets.send(new CreateSecretCommand({ Name: 'chaosduck/anthropic', SecretString: 'sk-ant-from-secrets-manager' }));

    const configured = await lambdaAnalyst(secrets, ARN, undefined);
    const none = await lambdaAnalyst(secrets, undefined, undefined);

    expect(configured.source).toBe('claude');
    expect(none).toBe(rulesAnalyst);
  });

  it('answers offline, logging the failure by name and never the secret, when the secret cannot be read', async () => {
    // As in Lambda: the log port onto Powertools Logger, whose lines are read from the process's output.
    const previous = setLogSink(powertoolsLog(logger));
    const lines: string[] = [];
    const written = [process.stdout, process.stderr].map((stream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0),
    );
    try {
      const analyst = await lambdaAnalyst(secrets, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbC123', undefined);

      expect(analyst).toBe(rulesAnalyst);
      const logged = lines.filter((text) => text.includes('the Anthropic key could not be read'));
      expect(logged).toHaveLength(1);
      expect(JSON.parse(String(logged[0]))).toMatchObject({ level: 'ERROR', error: 'ResourceNotFoundException', secret: expect.stringContaining(':secret:missing-') });
      expect(lines.join('')).not.toContain('sk-ant');
    } finally {
      for (const spy of written) spy.mockRestore();
      setLogSink(previous);
    }
  });
});

describe('dry runs asked of the API function', () => {
  let runtime: LocalRuntime;
  let fakeLambda: Server;
  let lambda: LambdaClient;
  const invocations: string[] = [];

  beforeAll(async () => {
    runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ provider: 'kubernetes', targets: 4, labels: { app: 'nginx' } })] });
    const api = createApiHandler({ ...runtime.control, topology: runtime.topology });
    // A FAKE Lambda service: POST /2015-03-31/functions/<name>/invocations runs the real API handler on the payload.
    fakeLambda = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        invocations.push(decodeURIComponent(req.url ?? ''));
        const result = await api(JSON.parse(Buffer.concat(chunks).toString('utf8')), {} as never);
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' }).end(JSON.stringify(result));
      });
    });
    await new Promise<void>((resolve) => fakeLambda.listen(0, '127.0.0.1', resolve));
    lambda = new LambdaClient({ ...motoClientConfig(`http://127.0.0.1:${(fakeLambda.address() as AddressInfo).port}`) });
  });
  afterAll(async () => {
    await new Promise((resolve) => fakeLambda?.close(resolve));
    await runtime?.stop();
  });

  it('returns the API function\'s plan, as the API would answer it', async () => {
    const ask = apiInvoker(lambda, 'chaosduck-api');

    const plan = await ask('POST', '/api/chaos/dry-run', { name: 'nginx-kill', chaos_type: 'pod_delete', target: { labels: { app: 'nginx' } } });

    expect(plan).toMatchObject({ dry_run: true, experiment: 'nginx-kill' });
    expect(invocations.at(-1)).toBe('/2015-03-31/functions/chaosduck-api/invocations');
  });

  it('turns the API function\'s error answer into the same error, code and status kept (the production rule here)', async () => {
    const ask = apiInvoker(lambda, 'chaosduck-api');

    const refused = await ask('POST', '/api/chaos/dry-run', { name: 'nginx-kill', chaos_type: 'pod_delete', target: { namespace: 'production', labels: { app: 'nginx' } } }).catch((e: unknown) => e);

    expect(refused).toBeInstanceOf(ApiAnswerError);
    expect(refused).toMatchObject({ status: 400, code: 'VALIDATION', message: expect.stringContaining('require_confirmation') });
  });

  it('serves the natural-language route in AWS shape: the plan from the API function, or what it refused', async () => {
    const ask = apiInvoker(lambda, 'chaosduck-api');
    const handler = createAnalysisHandler({
      store: runtime.store,
      analyst: rulesAnalyst,
      dryRun: (e) => ask('POST', '/api/chaos/dry-run', e),
      topology: () => ask('GET', '/api/topology/combined'),
      runtime: 'lambda',
      guardrails: runtime.deps.guardrails,
    });
    const event = (prompt: string) =>
      ({ httpMethod: 'POST', path: '/api/analysis/nl-experiment', resource: '/api/analysis/{proxy+}', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt }), isBase64Encoded: false, queryStringParameters: null, pathParameters: null }) as never;

    const planned = JSON.parse((await handler(event('kill one nginx pod'), {} as never)).body);
    const refused = JSON.parse((await handler(event('kill one nginx pod in namespace production'), {} as never)).body);

    expect(planned.dry_run).toMatchObject({ dry_run: true });
    expect(refused.refused.message).toContain('require_confirmation');
  });

  it('gives the HYPOTHESIS task the analysis function\'s prediction, asked through Lambda', async () => {
    // The analysis function behind a second FAKE Lambda endpoint, offline here: the answer's shape is what matters.
    const analysisHandler = createAnalysisHandler({
      store: runtime.store,
      analyst: rulesAnalyst,
      dryRun: async () => ({}),
      topology: async () => ({}),
      runtime: 'lambda',
      guardrails: runtime.deps.guardrails,
    });
    const analysisLambda = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => res.writeHead(200).end(JSON.stringify(await analysisHandler(JSON.parse(Buffer.concat(chunks).toString('utf8')), {} as never))));
    });
    await new Promise<void>((resolve) => analysisLambda.listen(0, '127.0.0.1', resolve));
    try {
      const predict = remotePredictor(new LambdaClient(motoClientConfig(`http://127.0.0.1:${(analysisLambda.address() as AddressInfo).port}`)), 'chaosduck-analysis');
      const spec = validateExperiment({ name: 'nginx-kill', chaos_type: 'pod_delete', target: { labels: { app: 'nginx' } } }, { runtime: 'lambda', guardrails: runtime.deps.guardrails });

      const answer = await predict(spec, ruleBasedHypothesis(spec));

      expect(answer).toMatchObject({ source: 'rules', model: null, result: { statement: expect.stringContaining('selected replicas are deleted'), predicted_impact: expect.arrayContaining([expect.any(String)]) } });
    } finally {
      await new Promise((resolve) => analysisLambda.close(resolve));
    }
  });

  it('says when the API function itself failed', async () => {
    const failing = new LambdaClient({ ...motoClientConfig('http://127.0.0.1:9') });

    await expect(apiInvoker(failing, 'chaosduck-api')('GET', '/api/topology/combined')).rejects.toThrow();
    // A FunctionError (the handler threw) is named as such.
    const asked: string[] = [];
    const crashing = createServer((req, res) => {
      asked.push(`${req.method} ${decodeURIComponent(req.url ?? '')}`);
      res.writeHead(200, { 'x-amz-function-error': 'Unhandled' }).end(JSON.stringify({ errorMessage: 'boom' }));
    });
    await new Promise<void>((resolve) => crashing.listen(0, '127.0.0.1', resolve));
    try {
      const client = new LambdaClient(motoClientConfig(`http://127.0.0.1:${(crashing.address() as AddressInfo).port}`));
      await expect(apiInvoker(client, 'chaosduck-api')('GET', '/api/topology/combined')).rejects.toThrow('chaosduck-api failed (Unhandled): boom');
      // One Invoke of the named function, not retried: a handler that threw is an answer, not a transport failure.
      expect(asked).toEqual(['POST /2015-03-31/functions/chaosduck-api/invocations']);
    } finally {
      await new Promise((resolve) => crashing.close(resolve));
    }
  });
});
