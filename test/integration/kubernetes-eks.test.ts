/**
 * EKS access as the Lambda functions use it, over real HTTP: DescribeCluster against moto server, and the FAKE
 * Kubernetes API server (test/support/fake-kube-apiserver.ts) behind TLS with a cluster CA, checking every bearer
 * token the way EKS does (aws-iam-authenticator's Verify): the format, the cluster header among the signed ones, the
 * 15-minute age, then a GET of the presigned URL against STS — here moto's. moto checks no signatures, so the
 * verifier checks the SigV4 signature itself with the credentials' secret, standing in for STS.
 *
 * moto makes up each cluster's endpoint and CA; the tests point the resolver at the fake by wrapping the real
 * DescribeCluster call (`describeCluster`), keeping everything else moto answered. The TLS fixtures in
 * test/support/fixtures/eks-tls are a test-only CA, a server certificate for 127.0.0.1 it signed, and an unrelated CA.
 *
 * Why a fake here: EKS authenticates with presigned STS tokens, which a self-built API server does not check; the fake
 * checks them as EKS does. Everything else Kubernetes is tested against a real control plane (kubernetes-real-*).
 */
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as api from '../../functions/api/handler.js';
import * as apiLambda from '../../functions/api/lambda.js';
import * as runProbes from '../../functions/run-probes/handler.js';
import * as runProbesLambda from '../../functions/run-probes/lambda.js';
import { ProviderUnavailableError, ValidationError } from '../../shared/errors.js';
import type { FaultContext } from '../../shared/faults/driver.js';
import { kubeClientsFromConfig, type KubeClientResolver } from '../../shared/faults/kubernetes/cluster.js';
import { createKubernetesDriver } from '../../shared/faults/kubernetes/driver.js';
import {
  CLUSTER_ID_HEADER,
  EKS_TOKEN_PREFIX,
  TOKEN_REFRESH_MS,
  describeClusterWithSdk,
  eksClients,
  eksKubeConfig,
  eksToken,
  stsEndpoint,
  type DescribeCluster,
} from '../../shared/faults/kubernetes/eks.js';
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { lambdaDeps } from '../../shared/lifecycle/lambda-deps.js';
import { eksTopology, withKubernetes } from '../../shared/lifecycle/lambda-kubernetes.js';
import { probeSchema, type ExperimentInput } from '../../shared/model/experiment.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { runProbe } from '../../shared/probes/index.js';
import { tableDefinition } from '../../shared/store/table.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';
import { MOTO_SETUP_TIMEOUT_MS, createMotoQueue, motoClientConfig, overrideEnv, startMoto, type Moto } from '../support/moto.js';

const TLS = new URL('../support/fixtures/eks-tls/', import.meta.url);
const CA_DATA = readFileSync(new URL('ca.pem', TLS)).toString('base64');
const SECRET = 'testing';
const MOTO_CALLER = 'arn:aws:sts::123456789012:user/moto';

// ---- what EKS does with a token ---------------------------------------------------------------------------------------

const hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 of a presigned GET, recomputed from the URL alone (as STS does), with the headers the caller sends. */
function signatureValid(url: URL, headers: Record<string, string>, secret: string): boolean {
  const q = url.searchParams;
  const [, day = '', region = '', service = ''] = (q.get('X-Amz-Credential') ?? '').split('/');
  const signed = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  const query = [...q.entries()]
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [encode(key), encode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonical = ['GET', url.pathname, query, signed.map((h) => `${h}:${headers[h] ?? ''}\n`).join(''), signed.join(';'), hex('')].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', q.get('X-Amz-Date'), scope, hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex') === q.get('X-Amz-Signature');
}

const decodeToken = (token: string) => new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));

interface Verdict {
  ok: boolean;
  reason?: string;
  arn?: string;
  date?: string;
}

const ALLOWED_PARAMS = new Set(['action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-security-token', 'x-amz-signature', 'x-amz-signedheaders']);

/** aws-iam-authenticator's token check for `clusterId`, with `stsOrigin` the only STS it trusts. */
function eksAuthenticator(clusterId: string, stsOrigin: string) {
  const verdicts: Verdict[] = [];
  const verify = async (token: string | undefined): Promise<Verdict> => {
    if (!token?.startsWith(EKS_TOKEN_PREFIX)) return { ok: false, reason: 'missing k8s-aws-v1. prefix' };
    let url: URL;
    try {
      url = decodeToken(token);
    } catch {
      return { ok: false, reason: 'not a URL' };
    }
    const q = url.searchParams;
    const date = q.get('X-Amz-Date') ?? '';
    if (url.origin !== stsOrigin || url.pathname !== '/') return { ok: false, reason: `unexpected STS URL ${url.origin}${url.pathname}` };
    if ([...q.keys()].some((key) => !ALLOWED_PARAMS.has(key.toLowerCase()))) return { ok: false, reason: 'non-whitelisted query parameter' };
    if (q.get('Action') !== 'GetCallerIdentity') return { ok: false, reason: 'unexpected action' };
    if (!(q.get('X-Amz-SignedHeaders') ?? '').split(';').includes(CLUSTER_ID_HEADER)) return { ok: false, reason: 'cluster header not signed' };
    const expires = Number(q.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 0 || expires > 900) return { ok: false, reason: 'bad X-Amz-Expires' };
    const signedAt = Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    if (!(Date.now() <= signedAt + 15 * 60_000)) return { ok: false, reason: 'X-Amz-Date expired', date };
    // STS's own check (moto skips it): the signature covers this cluster's id.
    if (!signatureValid(url, { host: url.host, [CLUSTER_ID_HEADER]: clusterId }, SECRET)) return { ok: false, reason: 'signature mismatch', date };
    // moto routes a request by its Authorization header's credential scope; STS reads the same from the query.
    const authorization = `AWS4-HMAC-SHA256 Credential=${q.get('X-Amz-Credential')}, SignedHeaders=${q.get('X-Amz-SignedHeaders')}, Signature=${q.get('X-Amz-Signature')}`;
    const response = await fetch(url, { headers: { [CLUSTER_ID_HEADER]: clusterId, accept: 'application/json', authorization } });
    const body = await response.text();
    const arn = /<GetCallerIdentityResult>[\s\S]*<Arn>([^<]+)<\/Arn>/.exec(body)?.[1];
    if (response.status !== 200 || !arn) return { ok: false, reason: `STS answered ${response.status}`, date };
    return { ok: true, arn, date };
  };
  return {
    verdicts,
    authenticate: async (token: string | undefined) => {
      const verdict = await verify(token);
      verdicts.push(verdict);
      return verdict.ok;
    },
  };
}

/** The fake behind TLS, with the server certificate the fixture CA signed: the client checks it against `caData`. */
async function tlsFront(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpsServer({ key: readFileSync(new URL('server-key.pem', TLS)), cert: readFileSync(new URL('server.pem', TLS)) }, (req, res) => {
    const upstream = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => res.writeHead(502).end(String(error)));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- setup ------------------------------------------------------------------------------------------------------------

let moto: Moto;
let restoreEnv: (() => void) | undefined;
const ENV = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_SESSION_TOKEN: undefined,
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_STS: undefined,
  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined,
  TABLE_NAME: 'chaosduck-eks-test',
  EVENT_BUS_NAME: 'chaosduck-eks-test',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:chaosduck-eks-test',
};

beforeAll(async () => {
  moto = await startMoto();
  restoreEnv = overrideEnv({ ...ENV, AWS_ENDPOINT_URL: moto.endpoint });
  const config = motoClientConfig(moto.endpoint);
  const vpc = { resourcesVpcConfig: { subnetIds: [] }, roleArn: 'arn:aws:iam::123456789012:role/eks-cluster' };
  await new EKSClient(config).send(new CreateClusterCommand({ name: 'shop', ...vpc }));
  await new EKSClient({ ...config, region: 'eu-west-1' }).send(new CreateClusterCommand({ name: 'ledger', ...vpc }));
  await new DynamoDBClient(config).send(new CreateTableCommand(tableDefinition(ENV.TABLE_NAME)));
  await new EventBridgeClient(config).send(new CreateEventBusCommand({ Name: ENV.EVENT_BUS_NAME }));
}, MOTO_SETUP_TIMEOUT_MS);
afterAll(async () => {
  restoreEnv?.();
  await moto?.stop();
});

// ---- the token --------------------------------------------------------------------------------------------------------

describe('eksToken', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET };
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('is k8s-aws-v1. and the unpadded base64url of a presigned STS GetCallerIdentity URL that signs the cluster header', async () => {
    // Prepare: no configured endpoint, so the regional STS endpoint, as `aws eks get-token --region eu-west-1`.
    const restore = overrideEnv({ AWS_ENDPOINT_URL: undefined });
    try {
      // Act
      const token = await eksToken({ clusterName: 'shop', region: 'eu-west-1', credentials, now });
      const withSession = await eksToken({ clusterName: 'shop', region: 'eu-west-1', credentials: { ...credentials, sessionToken: 'FwoG+session/token=' }, now });

      // Assess
      expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
      expect(token.slice(EKS_TOKEN_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]+$/);
      const url = decodeToken(token);
      expect(`${url.origin}${url.pathname}`).toBe('https://sts.eu-west-1.amazonaws.com/');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        Action: 'GetCallerIdentity',
        Version: '2011-06-15',
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': 'AKIDEXAMPLE/20260301/eu-west-1/sts/aws4_request',
        'X-Amz-Date': '20260301T120000Z',
        'X-Amz-Expires': '60',
        'X-Amz-SignedHeaders': `host;${CLUSTER_ID_HEADER}`,
        'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      // The signature binds the token to this cluster: the same URL presented for another one does not verify.
      expect(signatureValid(url, { host: url.host, [CLUSTER_ID_HEADER]: 'shop' }, SECRET)).toBe(true);
      expect(signatureValid(url, { host: url.host, [CLUSTER_ID_HEADER]: 'other' }, SECRET)).toBe(false);
      // A session token rides in the URL and is signed with it.
      const session = decodeToken(withSession);
      expect(session.searchParams.get('X-Amz-Security-Token')).toBe('FwoG+session/token=');
      expect(signatureValid(session, { host: session.host, [CLUSTER_ID_HEADER]: 'shop' }, SECRET)).toBe(true);
    } finally {
      restore();
    }
  });

  it('names the STS endpoint the SDK would: AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, else the regional one', () => {
    expect(stsEndpoint('eu-west-1', {}).href).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(stsEndpoint('cn-north-1', {}).href).toBe('https://sts.cn-north-1.amazonaws.com.cn/');
    expect(stsEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).href).toBe('http://127.0.0.1:5000/');
    expect(stsEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_STS: 'http://b:2' }).href).toBe('http://b:2/');
    expect(stsEndpoint('eu-west-1', { AWS_ENDPOINT_URL: 'http://a:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).href).toBe('https://sts.eu-west-1.amazonaws.com/');
  });
});

// ---- DescribeCluster --------------------------------------------------------------------------------------------------

describe('eksClients against moto', () => {
  it('builds clients from DescribeCluster: the endpoint and CA of a cluster named by name (AWS_REGION) or by ARN', async () => {
    // Prepare
    const kube = eksClients();
    const describe = describeClusterWithSdk();
    const [shop, ledger] = [await describe('shop', 'us-east-1'), await describe('ledger', 'eu-west-1')];

    // Act
    const byName = await kube('shop');
    const byArn = await kube('arn:aws:eks:eu-west-1:123456789012:cluster/ledger');

    // Assess
    expect(byName.config.getCurrentCluster()).toMatchObject({ server: shop.endpoint, caData: shop.certificateAuthority?.data, skipTLSVerify: false });
    expect(byArn.config.getCurrentCluster()).toMatchObject({ server: ledger.endpoint, caData: ledger.certificateAuthority?.data });
    expect(ledger.endpoint).toContain('.eu-west-1.');
    // Kept per cluster: the second call describes nothing and returns the same clients.
    expect(await kube('shop')).toBe(byName);
  });

  it('refuses an unknown, a missing or a malformed cluster, naming target.cluster; an unknown one is asked about again', async () => {
    const kube = eksClients();
    const fieldError = async (cluster: string | undefined) => {
      const error = await kube(cluster).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      const issues = (error as ValidationError).issues;
      expect(issues.map((i) => i.field)).toEqual(['target.cluster']);
      return issues[0]!.message;
    };

    expect(await fieldError('ghost')).toBe('no EKS cluster "ghost" in us-east-1 (in the control plane\'s account)');
    expect(await fieldError('arn:aws:eks:eu-west-1:123456789012:cluster/ghost')).toContain('no EKS cluster "ghost" in eu-west-1');
    expect(await fieldError(undefined)).toContain('in AWS there is no default cluster');
    expect(await fieldError('not a cluster!')).toBe('"not a cluster!" is not an EKS cluster name or ARN');

    expect(await fieldError('late')).toContain('no EKS cluster "late"');
    await new EKSClient(motoClientConfig(moto.endpoint)).send(
      new CreateClusterCommand({ name: 'late', roleArn: 'arn:aws:iam::123456789012:role/eks-cluster', resourcesVpcConfig: {} }),
    );
    await expect(kube('late')).resolves.toHaveProperty('core');
  });

  it('refuses a cluster that is not serving, or that only has a private endpoint, naming it', async () => {
    const describe = describeClusterWithSdk();
    const as = (patch: object): DescribeCluster => async (name, region) => ({ ...(await describe(name, region)), ...patch });

    await expect(eksClients({ describeCluster: as({ status: 'CREATING' }) })('shop')).rejects.toThrow(
      new ProviderUnavailableError('EKS cluster "shop" in us-east-1 is CREATING, not ACTIVE: its API server cannot be used'),
    );
    await expect(eksClients({ describeCluster: as({ resourcesVpcConfig: { endpointPublicAccess: false } }) })('shop')).rejects.toThrow(/has no public API endpoint/);
    await expect(eksClients({ describeCluster: as({ status: 'UPDATING' }) })('shop')).resolves.toHaveProperty('apps');
  });
});

// ---- through the API server -------------------------------------------------------------------------------------------

describe('Kubernetes through the EKS resolver, every token checked as EKS checks it', () => {
  let fake: FakeKubeApiServer;
  let front: Awaited<ReturnType<typeof tlsFront>>;
  let auth: ReturnType<typeof eksAuthenticator>;
  /** moto's DescribeCluster, with the endpoint and CA of the fake behind TLS instead of the made-up ones. */
  let viaFake: DescribeCluster;

  beforeEach(async () => {
    auth = eksAuthenticator('shop', new URL(moto.endpoint).origin);
    fake = await FakeKubeApiServer.start({ recreateDelayMs: 50, readyDelayMs: 100, authenticate: auth.authenticate });
    front = await tlsFront(fake.url);
    const describe = describeClusterWithSdk();
    viaFake = async (name, region) => ({ ...(await describe(name, region)), endpoint: front.url, certificateAuthority: { data: CA_DATA } });
  });
  afterEach(async () => {
    await front.close();
    await fake.stop();
  });

  const k8sProbe = (kube: KubeClientResolver, properties: Record<string, unknown>) =>
    runProbe(probeSchema.parse({ name: 'web-ready', type: 'k8s', properties: { cluster: 'shop', ...properties } }), {
      runtime: 'lambda',
      signal: AbortSignal.timeout(10_000),
      kube,
    });

  it('a k8s probe reads the cluster over TLS (the CA from DescribeCluster) with a token EKS accepts', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });

    const record = await k8sProbe(eksClients({ describeCluster: viaFake }), { namespace: 'shop', kind: 'deployment', name: 'web' });

    expect(record).toMatchObject({ status: 'succeeded', tolerance_met: true, output: { cluster: 'shop', desired: 2, ready: 2 } });
    expect(fake.requestLines('/apis')).toEqual(['GET /apis/apps/v1/namespaces/shop/deployments/web']);
    expect(auth.verdicts).toEqual([expect.objectContaining({ ok: true, arn: MOTO_CALLER })]);
  });

  it('a CA other than the cluster\'s fails the TLS handshake: the CA really is checked', async () => {
    const otherCa = readFileSync(new URL('other-ca.pem', TLS)).toString('base64');
    const wrongCa: DescribeCluster = async (name, region) => ({ ...(await viaFake(name, region)), certificateAuthority: { data: otherCa } });

    const record = await k8sProbe(eksClients({ describeCluster: wrongCa }), { namespace: 'shop', kind: 'deployment', name: 'web' });

    expect(record.status).toBe('failed');
    expect((record.output as { failures: string[] }).failures[0]).toMatch(/unable to verify the first certificate/);
    expect(fake.requests).toEqual([]);
  });

  it('pod_delete through the resolver: selects, deletes and waits for recovery on the cluster target.cluster names', async () => {
    // Prepare
    const { pods } = fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    const driver = createKubernetesDriver(eksClients({ describeCluster: viaFake }), { pollIntervalMs: 25, waitTimeoutSeconds: 10 });
    const spec = parseExperiment({
      name: 'eks-pod-delete',
      chaos_type: 'pod_delete',
      target: { namespace: 'shop', labels: { app: 'web' }, cluster: 'shop', selection: 'COUNT(1)' },
      parameters: { duration_seconds: 1 },
      safety: { max_blast_radius: 1 },
    } as ExperimentInput);
    const context: FaultContext = { experimentId: 'exp-eks', rollbackSeq: 1, signal: AbortSignal.timeout(15_000) };

    // Act
    const targets = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const intent = await driver.prepare(spec, targets[0]!, AbortSignal.timeout(5_000));
    const applied = await driver.apply(spec, intent, context);
    const reverted = await driver.revert(intent, context);

    // Assess
    expect(targets.map((t) => t.id).sort()).toEqual(pods.map((p) => `shop/${p.metadata.name}`).sort());
    expect(intent.params).toMatchObject({ cluster: 'shop' });
    expect(applied).toMatchObject({ deleted: [targets[0]!.id] });
    expect(reverted).toMatchObject({ recovered: true, replaced: true, ready_replicas: 2 });
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(auth.verdicts.length).toBe(fake.requests.length);
    expect(auth.verdicts.every((v) => v.ok)).toBe(true);
  });

  it('signs a new token once the last is 10 minutes old, for clients already handed out', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    let now = Date.now() - 12 * 60_000;
    const kube = eksClients({ describeCluster: viaFake, clock: () => now });
    const { apps } = await kube('shop');
    const read = () => apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' });

    await read();
    now += TOKEN_REFRESH_MS - 1_000;
    await read();
    now += 2_000;
    await read();

    expect(auth.verdicts.map((v) => v.ok)).toEqual([true, true, true]);
    const [first, second, third] = auth.verdicts.map((v) => v.date);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
  });

  it('a stale token gets 401, and the error says what the cluster refused', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    // Signed 20 minutes ago: past the 15 minutes EKS accepts a token for.
    const kube = eksClients({ describeCluster: viaFake, clock: () => Date.now() - 20 * 60_000 });
    const driver = createKubernetesDriver(kube);
    const spec = parseExperiment({ name: 'stale', chaos_type: 'pod_delete', target: { namespace: 'shop', labels: { app: 'web' }, cluster: 'shop' }, parameters: {} } as ExperimentInput);

    const record = await k8sProbe(kube, { namespace: 'shop', kind: 'deployment', name: 'web' });
    const resolved = await driver.resolve(spec, AbortSignal.timeout(5_000)).catch((e: unknown) => e);

    const refused = 'EKS cluster "shop" (us-east-1) refused the control plane\'s IAM credentials (401 Unauthorized)';
    expect(record).toMatchObject({ status: 'failed', tolerance_met: false });
    expect((record.output as { failures: string[] }).failures[0]).toContain(`ProviderUnavailableError: ${refused}`);
    expect(resolved).toBeInstanceOf(ProviderUnavailableError);
    expect((resolved as Error).message).toContain(refused);
    expect((resolved as Error).message).toContain('access entry');
    expect(auth.verdicts.map((v) => v.reason)).toEqual(['X-Amz-Date expired', 'X-Amz-Date expired']);
  });

  it('a garbled token, or one signed for another cluster, gets 401 and the same clear error', async () => {
    const access = { name: 'shop', region: 'us-east-1', endpoint: front.url, caData: CA_DATA };
    const garbled = kubeClientsFromConfig(eksKubeConfig(access, async () => `${EKS_TOKEN_PREFIX}bm90IGEgVVJM`));
    const otherCluster = kubeClientsFromConfig(eksKubeConfig(access, () => eksToken({ clusterName: 'other', region: 'us-east-1' })));

    await expect(garbled.core.listNamespace()).rejects.toThrow(/EKS cluster "shop" \(us-east-1\) refused the control plane's IAM credentials/);
    await expect(otherCluster.core.listNamespace()).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(auth.verdicts.map((v) => v.reason)).toEqual(['not a URL', 'signature mismatch']);
  });

  describe('in the Lambda functions, with the environment Lambda gives them', () => {
    const context = { functionName: 'chaosduck-test', awsRequestId: 'req-1', callbackWaitsForEmptyEventLoop: false } as Context;
    const experiment = (cluster: string) => ({
      id: `exp-eks-${cluster}`,
      spec: {
        name: 'eks-steady-state',
        chaos_type: 'pod_delete',
        target: { namespace: 'shop', labels: { app: 'web' }, cluster },
        probes: [{ name: 'web-ready', type: 'k8s', mode: 'sot', properties: { namespace: 'shop', kind: 'deployment', name: 'web', cluster } }],
      },
      deadline: Date.now() + 60_000,
      phaseTimeoutSeconds: 120,
      rollbackTimeoutSeconds: 300,
    });
    const get = (path: string, query: Record<string, string> | null) =>
      ({ httpMethod: 'GET', path, resource: '/{proxy+}', headers: {}, queryStringParameters: query, pathParameters: null, body: null, isBase64Encoded: false }) as unknown as APIGatewayProxyEvent;

    it('run-probes: the steady state is read from the EKS cluster through lambdaDeps + withKubernetes', async () => {
      fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
      const handler = runProbes.createHandler(withKubernetes(lambdaDeps(), { describeCluster: viaFake }));

      const output = await handler({ experiment: experiment('shop') }, context);

      expect(output).toEqual({ met: true, failed: [], errored: false });
      expect(auth.verdicts).toEqual([expect.objectContaining({ ok: true })]);
    });

    it('run-probes as deployed: a cluster DescribeCluster does not know fails the probe, and its progress event says why', async () => {
      // Prepare: the probe results the function publishes, delivered from the bus to a queue.
      const queue = await createMotoQueue(moto.endpoint, 'eks-probe-results');
      const events = new EventBridgeClient(motoClientConfig(moto.endpoint));
      const pattern = { source: ['chaosduck.lifecycle'], 'detail-type': ['probe.result'] };
      await events.send(new PutRuleCommand({ Name: 'eks-probe-results', EventBusName: ENV.EVENT_BUS_NAME, EventPattern: JSON.stringify(pattern) }));
      await events.send(new PutTargetsCommand({ Rule: 'eks-probe-results', EventBusName: ENV.EVENT_BUS_NAME, Targets: [{ Id: 'queue', Arn: queue.arn }] }));

      // Act: the handler Lambda runs, its dependencies built from the environment.
      const output = await runProbesLambda.handler({ experiment: experiment('ghost') }, context);

      // Assess
      expect(output).toEqual({ met: false, failed: ['web-ready'], errored: false });
      const delivered = (await queue.drain()).map((body) => JSON.parse(body) as { detail: { detail: { record: { output: { failures: string[] } } } } });
      expect(delivered.map((d) => d.detail.detail.record.output.failures)).toEqual([[expect.stringContaining('no EKS cluster "ghost" in us-east-1')]]);
    });

    it('api: GET /api/topology/k8s?cluster=… lists the EKS cluster; without a cluster, or an unknown one, a 400 names it', async () => {
      fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
      const deps = withKubernetes(lambdaControl(), { describeCluster: viaFake });
      const handler = api.createHandler({ ...deps, topology: { k8s: eksTopology(deps.kube) } });

      const listed = await handler(get('/api/topology/k8s', { cluster: 'shop' }), context);
      const unnamed = await apiLambda.handler(get('/api/topology/k8s', null), context);
      const unknown = await apiLambda.handler(get('/api/topology/k8s', { cluster: 'ghost' }), context);

      expect(listed.statusCode).toBe(200);
      expect(JSON.parse(listed.body)).toMatchObject({ cluster: 'shop', deployments: [{ namespace: 'shop', name: 'web', ready_replicas: 1 }] });
      expect(unnamed.statusCode).toBe(400);
      expect(JSON.parse(unnamed.body).error.fields).toEqual([{ field: 'cluster', message: expect.stringContaining('no default cluster') }]);
      expect(unknown.statusCode).toBe(400);
      expect(JSON.parse(unknown.body).error.fields).toEqual([{ field: 'target.cluster', message: expect.stringContaining('no EKS cluster "ghost"') }]);
    });

    it('api: GET /api/topology/steady-state reads the EKS cluster named; without one, its Kubernetes part says why and the rest answers', async () => {
      fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
      const deps = withKubernetes(lambdaControl(), { describeCluster: viaFake });
      const handler = api.createHandler({ ...deps, topology: { k8s: eksTopology(deps.kube) } });

      const named = await handler(get('/api/topology/steady-state', { cluster: 'shop', namespace: 'shop' }), context);
      const unnamed = await apiLambda.handler(get('/api/topology/steady-state', null), context);

      expect(named.statusCode).toBe(200);
      expect(JSON.parse(named.body).kubernetes).toEqual({
        available: true,
        cluster: 'shop',
        deployments: [{ namespace: 'shop', name: 'web', protected: false, replicas: 2, ready_replicas: 2, available_replicas: 2, all_ready: true }],
        statefulsets: [],
      });
      expect(unnamed.statusCode).toBe(200);
      const body = JSON.parse(unnamed.body);
      expect(body.kubernetes).toEqual({ available: false, error: { code: 'VALIDATION', message: expect.stringContaining('no default cluster') } });
      expect(body.aws).toMatchObject({ available: true, region: 'us-east-1', instances: expect.any(Array) });
      expect(body.experiments_read).toEqual({ count: expect.any(Number), limit: 20, since: null });
    });
  });
});
