/**
 * Kubernetes clients for EKS clusters, as the Lambda functions reach them: the cluster's endpoint and CA come from
 * `DescribeCluster`, and every request carries a bearer token signed with the function's own IAM credentials — the
 * scheme of `aws eks get-token` and aws-iam-authenticator: a SigV4-presigned STS `GetCallerIdentity` URL with the
 * signed header `x-k8s-aws-id: <cluster>`, which the API server calls to learn who is asking. No kubeconfig, no
 * `aws` binary; the cluster maps the IAM role to a Kubernetes group through an access entry (see
 * deploy/kubernetes/rbac.yaml).
 *
 * A token is good for 15 minutes after signing. Each request asks for one, and a cluster's token is signed again once
 * it is 10 minutes old, so clients kept for a long wait (a rollback waiting for recovery) never send a stale one.
 */
import { DescribeClusterCommand, EKSClient, ResourceNotFoundException, type Cluster } from '@aws-sdk/client-eks';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import {
  type ApiConstructor,
  type ApiType,
  type Middleware,
  type ResponseContext,
  type RequestContext,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
} from '@kubernetes/client-node';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4, type SignatureV4Init } from '@smithy/signature-v4';
import { ProviderUnavailableError, ValidationError } from '../../errors.js';
import { kubeClientsFromConfig, type KubeClientResolver, type KubeClients } from './cluster.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header that binds a token to one cluster; the API server sends it along when it calls STS. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** STS ignores it (a presigned GetCallerIdentity URL lasts 15 minutes), but authenticators expect 60, as the CLI sends. */
const PRESIGN_EXPIRES_SECONDS = 60;
/** Well inside the 15 minutes a token is accepted for, so one is never used in its last minutes. */
export const TOKEN_REFRESH_MS = 10 * 60_000;
/** A cluster's endpoint never changes and its CA seldom does; describing it again hourly picks up a rotation. */
export const DESCRIBE_TTL_MS = 60 * 60_000;
/** Statuses whose API server answers: an update (version, logging, access) keeps the cluster serving. */
const SERVING_STATUSES: ReadonlySet<string> = new Set(['ACTIVE', 'UPDATING']);

type Credentials = SignatureV4Init['credentials'];

export interface EksTokenOptions {
  /** The cluster's name (not its ARN), as `aws eks get-token --cluster-name` takes it. */
  clusterName: string;
  /** The region whose STS endpoint the URL names; the cluster's own. */
  region: string;
  /** @default the SDK's default chain (`fromNodeProviderChain`): in Lambda, the function's role */
  credentials?: Credentials;
  /** Signing time, epoch ms. @default Date.now() */
  now?: number;
}

/**
 * The STS endpoint a presigned URL names, resolved as the SDK resolves an STS client's: `AWS_ENDPOINT_URL_STS`, then
 * `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), else the regional endpoint, as `aws eks get-token`
 * and aws-iam-authenticator use. EKS itself accepts only the real STS hosts; a configured endpoint is for emulators.
 */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): URL {
  const ignore = /^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '');
  const configured = ignore ? undefined : env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
  return new URL(configured ?? `https://sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}/`);
}

/**
 * A bearer token for an EKS cluster: `k8s-aws-v1.` + the base64url (unpadded) of a presigned STS URL.
 *
 * @example
 *   const token = await eksToken({ clusterName: 'shop', region: 'eu-west-1' });
 *   // Authorization: Bearer k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eS...
 */
export async function eksToken({ clusterName, region, credentials = fromNodeProviderChain(), now = Date.now() }: EksTokenOptions): Promise<string> {
  const endpoint = stsEndpoint(region);
  const request = new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: endpoint.pathname || '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: endpoint.host, [CLUSTER_ID_HEADER]: clusterName },
  });
  const signer = new SignatureV4({ service: 'sts', region, credentials, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.presign(request, {
    expiresIn: PRESIGN_EXPIRES_SECONDS,
    signingDate: new Date(now),
    signableHeaders: new Set([CLUSTER_ID_HEADER]),
  });
  const query = Object.entries(signed.query ?? {})
    .flatMap(([key, value]) => [value ?? ''].flat().map((v) => `${rfc3986(key)}=${rfc3986(v)}`))
    .sort()
    .join('&');
  const url = `${endpoint.protocol}//${endpoint.host}${signed.path}?${query}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** Percent-encoding as SigV4 canonicalises it (RFC 3986 unreserved characters stay), so the URL decodes exactly. */
const rfc3986 = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** What a client needs to reach one cluster. */
export interface EksClusterAccess {
  name: string;
  region: string;
  /** The API server's URL (`https://<id>.<suffix>.<region>.eks.amazonaws.com`). */
  endpoint: string;
  /** The cluster CA, base64 PEM, as `certificateAuthority.data`. */
  caData: string;
}

const AUTH_PROVIDER = 'chaosduck-eks-token';

/**
 * A KubeConfig for one EKS cluster whose requests each carry `token()` as their bearer token, and whose API clients
 * turn a 401 into an error that says what the cluster refused and why that usually happens.
 */
export function eksKubeConfig(access: EksClusterAccess, token: () => Promise<string>, onUnauthorized: () => void = () => {}): KubeConfig {
  const kc = new EksKubeConfig(access, onUnauthorized);
  // Asked on every request (API calls, and exec's WebSocket), so a renewed token is picked up by clients already made.
  kc.addAuthenticator({
    isAuthProvider: (user) => (user.authProvider as { name?: string } | undefined)?.name === AUTH_PROVIDER,
    applyAuthentication: async (_user, opts) => {
      opts.headers = { ...opts.headers, Authorization: `Bearer ${await token()}` };
    },
  });
  kc.loadFromOptions({
    clusters: [{ name: access.name, server: access.endpoint, caData: access.caData, skipTLSVerify: false }],
    users: [{ name: 'chaosduck', authProvider: { name: AUTH_PROVIDER, config: {} } }],
    contexts: [{ name: access.name, cluster: access.name, user: 'chaosduck' }],
    currentContext: access.name,
  });
  return kc;
}

/** A KubeConfig whose API clients explain a 401: the usual cause is a role the cluster has no access entry for. */
class EksKubeConfig extends KubeConfig {
  constructor(
    private readonly access: EksClusterAccess,
    private readonly onUnauthorized: () => void,
  ) {
    super();
  }

  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const { name, region, endpoint } = this.access;
    const explain401: Middleware = {
      pre: async (context: RequestContext) => context,
      post: async (context: ResponseContext) => {
        if (context.httpStatusCode !== 401) return context;
        this.onUnauthorized();
        throw new ProviderUnavailableError(
          `EKS cluster "${name}" (${region}) refused the control plane's IAM credentials (401 Unauthorized): the function's role needs an access entry on it (deploy with -c chaosduck:eksClusters; the cluster's authentication mode must include the EKS API)`,
        );
      },
    };
    const config = createConfiguration({ baseServer: new ServerConfiguration(endpoint, {}), authMethods: { default: this }, promiseMiddleware: [explain401] });
    return new apiClientType(config);
  }
}

/** Where a cluster's description comes from; `DescribeCluster` unless a caller has its own. */
export type DescribeCluster = (name: string, region: string) => Promise<Cluster>;

/** `DescribeCluster` through the SDK (its endpoint from `AWS_ENDPOINT_URL` like any client), one client per region. */
export function describeClusterWithSdk(credentials?: Credentials): DescribeCluster {
  const clients = new Map<string, EKSClient>();
  return async (name, region) => {
    let client = clients.get(region);
    if (!client) {
      client = new EKSClient({ region, ...(credentials ? { credentials } : {}) });
      clients.set(region, client);
    }
    try {
      const { cluster } = await client.send(new DescribeClusterCommand({ name }));
      if (!cluster) throw new ProviderUnavailableError(`DescribeCluster returned nothing for EKS cluster "${name}" in ${region}`);
      return cluster;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new ValidationError([{ field: CLUSTER_FIELD, message: `no EKS cluster "${name}" in ${region} (in the control plane's account)` }], 'target');
      }
      throw error;
    }
  };
}

const CLUSTER_FIELD = 'target.cluster';
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:eks:([a-z]{2}(?:-gov)?-[a-z]+-\d):\d{12}:cluster\/([0-9A-Za-z][A-Za-z0-9_-]{0,99})$/;

/** A cluster as `target.cluster` names it: a name (in the default region) or an ARN (its region from the ARN). */
export function parseEksCluster(cluster: string | undefined, defaultRegion: string | undefined): { name: string; region: string } {
  const invalid = (message: string) => new ValidationError([{ field: CLUSTER_FIELD, message }], 'target');
  if (cluster === undefined || cluster === '') {
    throw invalid(
      'name the EKS cluster (by name, or as arn:aws:eks:<region>:<account>:cluster/<name>; a k8s probe in properties.cluster): in AWS there is no default cluster',
    );
  }
  const arn = CLUSTER_ARN.exec(cluster);
  if (arn) return { name: arn[2]!, region: arn[1]! };
  if (!CLUSTER_NAME.test(cluster)) throw invalid(`"${cluster}" is not an EKS cluster name or ARN`);
  if (!defaultRegion) throw invalid(`no AWS region for EKS cluster "${cluster}": give its ARN, or set AWS_REGION for the control plane`);
  return { name: cluster, region: defaultRegion };
}

/** Endpoint and CA from a cluster's description, or why it cannot be reached now. */
export function clusterAccess(cluster: Cluster, name: string, region: string): EksClusterAccess {
  const where = `EKS cluster "${name}" in ${region}`;
  if (!cluster.status || !SERVING_STATUSES.has(cluster.status)) {
    throw new ProviderUnavailableError(`${where} is ${cluster.status ?? 'in an unknown state'}, not ACTIVE: its API server cannot be used`);
  }
  if (cluster.resourcesVpcConfig?.endpointPublicAccess === false) {
    throw new ProviderUnavailableError(`${where} has no public API endpoint, and the control plane's functions run outside its VPC: enable public endpoint access`);
  }
  const caData = cluster.certificateAuthority?.data;
  if (!cluster.endpoint || !caData) throw new ProviderUnavailableError(`${where} has no API endpoint or CA yet`);
  return { name, region, endpoint: cluster.endpoint, caData };
}

export interface EksClientsOptions {
  /** The region of clusters named without an ARN. @default process.env.AWS_REGION */
  region?: string;
  /** Signs the tokens (and calls DescribeCluster). @default the SDK's default chain: in Lambda, the function's role */
  credentials?: Credentials;
  /** Where endpoint and CA come from. @default DescribeCluster through the SDK */
  describeCluster?: DescribeCluster;
  /** @default Date.now */
  clock?: () => number;
}

interface CachedCluster {
  clients: Promise<KubeClients>;
  describedAt: number;
}

/**
 * A resolver from `target.cluster` (an EKS cluster name or ARN) to clients for it. Clients are kept per cluster and
 * described again after an hour; their tokens are renewed every 10 minutes, and at once after a 401.
 *
 * @example
 *   const driver = createKubernetesDriver(eksClients());   // target.cluster: shop, or arn:aws:eks:eu-west-1:…:cluster/shop
 */
export function eksClients({
  region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
  credentials = fromNodeProviderChain(),
  describeCluster = describeClusterWithSdk(credentials),
  clock = Date.now,
}: EksClientsOptions = {}): KubeClientResolver {
  const cache = new Map<string, CachedCluster>();
  const connect = async (name: string, clusterRegion: string): Promise<KubeClients> => {
    const access = clusterAccess(await describeCluster(name, clusterRegion), name, clusterRegion);
    let token: { value: Promise<string>; signedAt: number } | undefined;
    const current = () => {
      const now = clock();
      if (!token || now - token.signedAt >= TOKEN_REFRESH_MS) {
        const value = eksToken({ clusterName: name, region: clusterRegion, credentials, now });
        const issued = { value, signedAt: now };
        token = issued;
        // A failed signing (no credentials yet) is not kept: the next request tries again.
        value.catch(() => {
          if (token === issued) token = undefined;
        });
      }
      return token.value;
    };
    return kubeClientsFromConfig(eksKubeConfig(access, current, () => (token = undefined)));
  };
  return async (cluster) => {
    const { name, region: clusterRegion } = parseEksCluster(cluster, region);
    const key = `${clusterRegion}/${name}`;
    const cached = cache.get(key);
    if (cached && clock() - cached.describedAt < DESCRIBE_TTL_MS) return cached.clients;
    const entry: CachedCluster = { clients: connect(name, clusterRegion), describedAt: clock() };
    cache.set(key, entry);
    // An unknown or unready cluster is asked about again next time, not remembered.
    entry.clients.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    return entry.clients;
  };
}
