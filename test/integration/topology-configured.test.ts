/**
 * GET /api/topology/combined on a fresh install, with the sources `chaosduck serve` has (the kubeconfig's clients, the
 * AWS SDK's default configuration): a machine configured for neither Kubernetes nor AWS gets `null` for each, as the
 * route's description says of a source not configured, not an error; once configured, a source that fails (a
 * cluster that does not answer, a region without credentials) is still reported as the error it is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { awsConfigured, kubernetesConfigured } from '../../local/topology.js';
import { kubeClientsByContext } from '../../shared/faults/kubernetes/cluster.js';
import { apiClient } from '../support/api-client.js';

const TOKEN = 'topology-configured-token';

/** A port nothing listens on: one the system gave, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the combined topology of a machine configured for neither Kubernetes nor AWS', () => {
  let home: string;
  let runtime: LocalRuntime;
  let server: LocalServer;
  const call = apiClient(() => server.url, TOKEN);

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'chaosduck-fresh-home-'));
    // A home with no ~/.kube or ~/.aws, and an environment that names neither.
    vi.stubEnv('HOME', home);
    for (const name of ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) vi.stubEnv(name, undefined);
    for (const name of ['AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    // As the CLI makes it: Kubernetes from the kubeconfig, AWS from the SDK's default configuration.
    runtime = await LocalRuntime.start({ aws: {}, kube: kubeClientsByContext() });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
    vi.unstubAllEnvs();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('answers null for both: not configured, which is no error', async () => {
    expect(kubernetesConfigured()).toBe(false);
    expect(awsConfigured()).toBe(false);
    const { status, body } = await call('GET', '/api/topology/combined');
    expect(status).toBe(200);
    expect(body).toEqual({ aws: null, kubernetes: null });
  });

  it('still reports a configured source that fails: a kubeconfig whose cluster does not answer, a region without credentials', async () => {
    const kubeconfig = join(home, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:${await closedPort()}", insecure-skip-tls-verify: true}}]
users: [{name: someone, user: {token: not-a-real-token}}]
contexts: [{name: gone, context: {cluster: gone, user: someone}}]
current-context: gone
`,
    );
    vi.stubEnv('KUBECONFIG', kubeconfig);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    expect(kubernetesConfigured()).toBe(true);
    expect(awsConfigured()).toBe(true);

    const { status, body } = await call('GET', '/api/topology/combined');
    expect(status).toBe(200);
    expect(body.kubernetes).toEqual({ error: { code: 'SOURCE_UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') } });
    expect(body.aws).toEqual({ error: { code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('no AWS credentials') } });
  }, 120_000);
});
