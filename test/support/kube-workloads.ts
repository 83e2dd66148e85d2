/**
 * Arranging workloads on the real control plane of kube-control-plane.ts, as its admin: namespaces that can take pods,
 * Deployments waited for until Ready (the node stand-in reports their pods), and a bounded wait for anything else.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1PodSpec } from '@kubernetes/client-node';

/** Polls `look` until it gives a value; generous, as a busy machine slows the controllers. */
export async function until<T>(what: string, look: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await look();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export class Workloads {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;

  constructor(admin: KubeConfig) {
    this.core = admin.makeApiClient(CoreV1Api);
    this.apps = admin.makeApiClient(AppsV1Api);
  }

  /** Waits until the namespace can take pods: its `default` service account is made by the controller-manager. */
  async serviceAccountOf(namespace: string): Promise<void> {
    await until(`the default service account of ${namespace}`, async () => (await this.core.listNamespacedServiceAccount({ namespace })).items.find((a) => a.metadata?.name === 'default'));
  }

  async namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name, labels } } });
    await this.serviceAccountOf(name);
  }

  /** A Deployment of `replicas` pods labelled `app: <name>`, once all are Ready. */
  async deployment(namespace: string, name: string, replicas: number, podSpec: Partial<V1PodSpec> = {}): Promise<void> {
    await this.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }], ...podSpec } },
        },
      },
    });
    await this.readyReplicas(namespace, name, replicas);
  }

  readyReplicas(namespace: string, name: string, count: number): Promise<true> {
    return until(`${namespace}/${name} to have ${count} ready replicas`, async () =>
      (await this.apps.readNamespacedDeployment({ name, namespace })).status?.readyReplicas === count ? true : undefined,
    );
  }
}
