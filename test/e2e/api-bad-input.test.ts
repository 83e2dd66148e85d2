/**
 * What an adversarial client found answered 500 or reset the connection, each now a 4xx (or 503 for a provider the
 * control plane cannot reach as configured) naming the field and the problem, with nothing stored: query parameters
 * named after Object properties, malformed percent-encodings, forged cursors, oversized ids, keys and bodies, and
 * missing AWS and Kubernetes configuration. Also: guards that need no target system answer at validation, and a
 * create is refused when its targets are held, instead of being accepted and then aborted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { awsClientFactory } from '../../shared/faults/aws/clients.js';
import { awsDriver } from '../../shared/faults/aws/index.js';
import { kubeClientsByContext } from '../../shared/faults/kubernetes/cluster.js';
import { createKubernetesDriver } from '../../shared/faults/kubernetes/driver.js';
import { MemoryDriver } from '../support/memory-driver.js';
import { apiClient } from '../support/api-client.js';
import { overrideEnv } from '../support/moto.js';

const TOKEN = 'bad-input-token';

let runtime: LocalRuntime;
let server: LocalServer;
let driver: MemoryDriver;
let restoreEnv: () => void;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'chaosduck-bad-input-'));
  // A kubeconfig whose cluster speaks plain HTTP without insecure-skip-tls-verify, and no AWS configuration at all.
  const kubeconfig = join(scratch, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: plain, cluster: {server: "http://127.0.0.1:1"}}]',
      'users: [{name: me, user: {token: t}}]',
      'contexts: [{name: plain, context: {cluster: plain, user: me}}]',
      'current-context: plain',
    ].join('\n'),
  );
  restoreEnv = overrideEnv({
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_ENDPOINT_URL: undefined,
    AWS_CONFIG_FILE: join(scratch, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  });
  driver = new MemoryDriver({ targets: 5, labelsOf: (i) => ({ slot: String(i) }) });
  const clients = awsClientFactory();
  const kube = kubeClientsByContext(kubeconfig);
  runtime = await LocalRuntime.start({ drivers: [driver, awsDriver(clients), createKubernetesDriver(kube)], aws: { clients }, kube });
  server = await startServer({ runtime, token: TOKEN, port: 0 });
});

afterAll(async () => {
  await server?.close();
  await runtime?.stop();
  restoreEnv?.();
  rmSync(scratch, { recursive: true, force: true });
});

const call = apiClient(() => server.url, TOKEN);

const stored = async () => (await runtime.store.listExperiments({ limit: 100 })).items.length;

const memory = (fields: Record<string, unknown> = {}) => ({
  name: 'bad-input',
  chaos_type: 'pod_delete',
  target: { provider: 'memory', labels: { app: 'demo' } },
  parameters: { duration_seconds: 0 },
  safety: { max_blast_radius: 1 },
  ...fields,
});

describe('malformed requests get a 4xx naming the problem, never a 500', () => {
  it.each(['/health?__proto__=1', '/health?constructor=1', '/health?toString=1&toString=2'])('%s is answered as /health', async (path) => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status).toBe(200);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('a query parameter named %s is an unknown field', async (name) => {
    const { status, body } = await call('GET', `/api/chaos/experiments?${name}=1`);
    expect(status).toBe(400);
    expect(body.error.fields).toEqual([{ field: name, message: 'unknown field' }]);
  });

  it.each(['/api/chaos/experiments/%ff', '/api/chaos/experiments/%E0%A4%A', '/api/chaos/experiments/%ff/rollback'])('a malformed percent-encoding (%s) names the id', async (path) => {
    const { status, body } = await call(path.endsWith('rollback') ? 'POST' : 'GET', path);
    expect(status).toBe(400);
    expect(body.error.fields).toEqual([{ field: 'id', message: 'not a valid percent-encoded path segment' }]);
  });

  it('an id of 3000 characters is not found, for GET and for a rollback alike', async () => {
    const id = 'a'.repeat(3000);
    expect((await call('GET', `/api/chaos/experiments/${id}`)).status).toBe(404);
    const rollback = await call('POST', `/api/chaos/experiments/${id}/rollback`);
    expect(rollback.status).toBe(404);
    expect(rollback.body.error.message).toMatch(/^experiment a{64}… not found$/);
  });

  it.each([
    ['JSON that is not a cursor', Buffer.from('{"a":1}').toString('base64url')],
    ['a cursor of another index', Buffer.from(JSON.stringify({ pk: 'EXP#x', sk: 'META', gsi1pk: 'STATUS#running', gsi1sk: '2026' })).toString('base64url')],
    ['not base64 JSON at all', '!!!'],
    ['a number', Buffer.from('42').toString('base64url')],
  ])('a cursor that is %s names the cursor', async (_what, cursor) => {
    const { status, body } = await call('GET', `/api/chaos/experiments?cursor=${encodeURIComponent(cursor)}`);
    expect(status).toBe(400);
    expect(body.error.fields).toEqual([{ field: 'cursor', message: expect.stringContaining('not a cursor returned by this API') }]);
  });

  it('an Idempotency-Key over 255 characters, or with spaces, names the header; nothing is stored', async () => {
    const before = await stored();
    for (const key of ['k'.repeat(3000), 'two words']) {
      const { status, body } = await call('POST', '/api/chaos/experiments', memory(), { 'idempotency-key': key });
      expect(status).toBe(400);
      expect(body.error.fields).toEqual([{ field: 'Idempotency-Key', message: expect.stringContaining('1 to 255 visible ASCII characters') }]);
    }
    expect(await stored()).toBe(before);
  });

  it('an experiment too large for the store is refused at validation and by the dry run alike, naming the field', async () => {
    // Fifty probes, each within its own bounds, together far over what one experiment may be.
    const probe = (i: number) => ({ name: `p${i}`, type: 'http', properties: { url: 'http://127.0.0.1:1/', body: 'x'.repeat(16_000) } });
    const huge = memory({ probes: Array.from({ length: 50 }, (_, i) => probe(i)) });
    const before = await stored();

    const created = await call('POST', '/api/chaos/experiments', huge);
    const planned = await call('POST', '/api/chaos/dry-run', huge);

    for (const answer of [created, planned]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error.fields).toEqual([{ field: expect.stringMatching(/^probes\[\d+\]$/), message: expect.stringContaining('an experiment may be at most 65536 bytes') }]);
    }
    expect(await stored()).toBe(before);
  });

  it.each([
    ['a label value over 63 characters', { target: { provider: 'memory', labels: { app: 'x'.repeat(64) } } }, 'target.labels.app'],
    ['65 labels', { target: { provider: 'memory', labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) } }, 'target.labels'],
    ['an http probe header of 9000 characters', { probes: [{ name: 'h', type: 'http', properties: { url: 'http://127.0.0.1:1/', headers: { x: 'y'.repeat(9000) } } }] }, 'probes[0].properties.headers.x'],
    ['101 pod names', { target: { provider: 'memory', pod_names: Array.from({ length: 101 }, (_, i) => `pod-${i}`) } }, 'target.pod_names'],
  ])('%s is named', async (_what, fields, field) => {
    const { status, body } = await call('POST', '/api/chaos/experiments', memory(fields));
    expect(status).toBe(400);
    expect(body.error.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('a body over 1 MiB gets 413 with a JSON error, not a reset connection', async () => {
    const { status, body } = await call('POST', '/api/chaos/dry-run', `{"name": "${'x'.repeat(2 * 1024 * 1024)}"}`);
    expect(status).toBe(413);
    expect(body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', fields: [{ field: 'body' }] });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('a body nested thousands of levels deep is refused, naming the body; a chaos_type that is no string is named', async () => {
    const deep = `{"name": "deep", "chaos_type": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const listed = await call('POST', '/api/chaos/experiments', deep);
    const notText = await call('POST', '/api/chaos/experiments', { name: 'x', chaos_type: [1], target: {} });

    expect(listed).toMatchObject({ status: 400, body: { error: { fields: [{ field: 'body', message: 'nested deeper than 32 levels' }] } } });
    expect(notText.body.error.fields[0]).toEqual({ field: 'chaos_type', message: expect.stringContaining('not a list') });
  });

  it('an unknown chaos_type is named, and so is every other bad common field', async () => {
    const { status, body } = await call('POST', '/api/chaos/experiments', { name: '', chaos_type: 'pod_kill', target: {}, safety: { timeout_seconds: -1 } });
    expect(status).toBe(400);
    expect(body.error.fields.map((f: { field: string }) => f.field)).toEqual(['chaos_type', 'name', 'name', 'safety.timeout_seconds']);
    expect(body.error.fields[0].message).toContain('unknown chaos type "pod_kill"');
  });
});

describe('missing provider configuration is named, never a 500', () => {
  it('the AWS topology without a region names the region', async () => {
    const { status, body } = await call('GET', '/api/topology/aws');
    expect(status).toBe(400);
    expect(body.error.fields).toEqual([{ field: 'region', message: 'no AWS region: give region, or set AWS_REGION for the control plane' }]);
  });

  it('an AWS dry run and create without credentials answer 503 PROVIDER_UNAVAILABLE naming the credentials; nothing is stored', async () => {
    const before = await stored();
    const ec2 = { name: 'no-creds', chaos_type: 'ec2_stop', target: { instance_ids: ['i-0123456789abcdef0'], region: 'eu-west-1' } };

    for (const path of ['/api/chaos/dry-run', '/api/chaos/experiments']) {
      const { status, body } = await call('POST', path, ec2);
      expect(status, JSON.stringify(body)).toBe(503);
      expect(body.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('no AWS credentials: set AWS_PROFILE') });
    }
    expect(await stored()).toBe(before);
  });

  it('a kubeconfig cluster on plain HTTP without insecure-skip-tls-verify is named by its entry', async () => {
    const k8s = { name: 'plain-http', chaos_type: 'pod_delete', target: { namespace: 'shop', labels: { app: 'web' } }, safety: { max_blast_radius: 1 } };
    const { status, body } = await call('POST', '/api/chaos/dry-run', k8s);
    expect(status).toBe(503);
    expect(body.error.message).toContain('cluster "plain" (context "plain") has server http://127.0.0.1:1 over plain HTTP without insecure-skip-tls-verify: true');
  });
});

describe('guards are answered when the experiment is submitted', () => {
  it.each([
    ['validate: kube-system', { target: { namespace: 'kube-system', labels: { app: 'dns' } } }, 'target.namespace', 'protected'],
    ['a production-looking namespace', { target: { namespace: 'payments-prod', labels: { app: 'web' } } }, 'target.namespace', '("prod"'],
    ['a production-looking cluster', { target: { cluster: 'prd-eu', labels: { app: 'web' } } }, 'target.cluster', '("prd"'],
    ['a production-looking name', { name: 'live-checkout-latency', target: { labels: { app: 'web' } } }, 'name', '("live"'],
  ])('%s: dry run and create answer 400 naming the field, before any cluster is asked', async (_what, fields, field, why) => {
    const body = { chaos_type: 'pod_delete', name: 'guarded', ...fields };
    for (const path of ['/api/chaos/dry-run', '/api/chaos/experiments']) {
      const answer = await call('POST', path, body);
      expect(answer.status).toBe(400);
      expect(answer.body.error.fields).toEqual([{ field, message: expect.stringContaining(why) }]);
    }
  });

  it('a create whose every target is held is refused with 409, storing nothing; the dry run shows the plan a run would make', async () => {
    await runtime.store.acquireLease('memory:replica-1', 'exp-holder', Date.now() + 60_000);
    const before = await stored();
    const onlyHeld = memory({ target: { provider: 'memory', labels: { app: 'demo', slot: '1' } } });
    const someHeld = memory({ target: { provider: 'memory', labels: { app: 'demo' }, selection: 'COUNT(2)' } });
    const named = memory({ target: { provider: 'memory', pod_names: ['replica-1', 'replica-2'], selection: 'ALL' } });

    const refused = await call('POST', '/api/chaos/experiments', onlyHeld);
    const refusedNamed = await call('POST', '/api/chaos/experiments', named);
    const plan = await call('POST', '/api/chaos/dry-run', someHeld);

    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'TARGET_LEASED', message: expect.stringContaining('replica-1 by exp-holder') } } });
    expect(refusedNamed).toMatchObject({ status: 409, body: { error: { code: 'TARGET_LEASED', message: expect.stringContaining('target.pod_names') } } });
    expect(await stored()).toBe(before);
    expect(plan.status).toBe(200);
    expect(plan.body.held_by_others).toEqual([{ target: 'replica-1', holder: 'exp-holder' }]);
    expect(plan.body.targets.map((t: { id: string }) => t.id)).not.toContain('replica-1');
    expect(plan.body.targets).toHaveLength(2);
    await runtime.store.releaseLease('memory:replica-1', 'exp-holder');
  });
});
