/**
 * Access to a Kubernetes cluster: the API clients the kubernetes driver, the k8s probe and the topology use, and the
 * resolver type that picks them by `target.cluster`. Here, from a kubeconfig (the CLI and the local runtime: a named
 * cluster is a kubeconfig context). In Lambda, `target.cluster` names an EKS cluster instead, reached with
 * DescribeCluster and a token signed by the function's IAM role: see `eks.ts`.
 */
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ProviderUnavailableError, ValidationError } from '../../errors.js';

export interface KubeClients {
  core: CoreV1Api;
  apps: AppsV1Api;
  /** The configuration behind them, for what is not a plain API call (exec into a container). */
  config: KubeConfig;
}

/**
 * Clients for `target.cluster` (undefined: the default cluster). Called again on revert, from the stored intent.
 * Asynchronous because reaching a cluster may need calls of its own (EKS: DescribeCluster and a fresh token).
 */
export type KubeClientResolver = (cluster: string | undefined) => Promise<KubeClients>;

export function kubeClientsFromConfig(kc: KubeConfig): KubeClients {
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), config: kc };
}

export interface KubeconfigOptions {
  /** A kubeconfig file; without it, the default lookup ($KUBECONFIG, ~/.kube/config, in-cluster service account). */
  kubeconfigPath?: string;
  /** A context of that kubeconfig; without it, its current context. */
  context?: string;
}

export function loadKubeConfig({ kubeconfigPath, context }: KubeconfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else {
    // With nothing to load, the client would quietly aim at http://localhost:8080; say what is missing instead.
    if (!process.env.KUBECONFIG && !existsSync(join(homedir(), '.kube', 'config')) && !process.env.KUBERNETES_SERVICE_HOST) {
      throw new ProviderUnavailableError('no Kubernetes cluster configured: set KUBECONFIG or create ~/.kube/config (target.cluster names a context)');
    }
    // The client would fail reading a KUBECONFIG entry that is not there with a bare ENOENT from deep inside it.
    const missing = (process.env.KUBECONFIG ?? '').split(delimiter).filter((path) => path !== '' && !existsSync(path));
    if (missing.length > 0 && missing.length === (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean).length) {
      throw new ProviderUnavailableError(`KUBECONFIG names ${missing.join(', ')}, which does not exist: point it at a kubeconfig file, or unset it to use ~/.kube/config`);
    }
    kc.loadFromDefault();
  }
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new ValidationError([{ field: 'target.cluster', message: `the kubeconfig has no context "${context}" (it has: ${known})` }]);
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ProviderUnavailableError(`the kubeconfig's context "${kc.getCurrentContext()}" names no cluster`);
  // The client refuses plain HTTP on its first request, deep inside a fault; say so here, naming the entry.
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    throw new ProviderUnavailableError(
      `the kubeconfig's cluster "${cluster.name}" (context "${kc.getCurrentContext()}") has server ${cluster.server} over plain HTTP without insecure-skip-tls-verify: true; use https, or set insecure-skip-tls-verify: true on that cluster entry`,
    );
  }
  return kc;
}

export function kubeClientsFromKubeconfig(options: KubeconfigOptions = {}): KubeClients {
  return kubeClientsFromConfig(loadKubeConfig(options));
}

/**
 * A resolver that maps `target.cluster` to the kubeconfig context of that name (the default context when the target
 * names none). Clients are cached per cluster.
 */
export function kubeClientsByContext(kubeconfigPath?: string): KubeClientResolver {
  const cache = new Map<string, KubeClients>();
  return async (cluster) => {
    const key = cluster ?? '';
    let clients = cache.get(key);
    if (!clients) {
      clients = kubeClientsFromKubeconfig({ kubeconfigPath, context: cluster });
      cache.set(key, clients);
    }
    return clients;
  };
}
