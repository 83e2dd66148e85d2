/**
 * A STAND-IN for a node's kubelet, for the real control plane of kube-control-plane.ts, which has no kubelet and no
 * container runtime. It plays only what the API server sees of a node: a Node that is Ready (its Lease renewed, as a
 * kubelet renews it), pods bound to it reported Running and Ready, deletions finalized once their grace period has
 * passed, and images it is told cannot be pulled reported as `ErrImagePull`. It runs nothing: an ephemeral container
 * never starts here (it is reported `ContainerCreating` for ever), so what needs a running agent (exec, logs) is tested
 * against the fake API server and its fake kubelet instead.
 */
import { CoordinationV1Api, CoreV1Api, type KubeConfig, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';

export interface NodeStandInOptions {
  name?: string;
  /** Images reported as not pullable (`ErrImagePull`), for containers and ephemeral containers alike. */
  unpullable?: (image: string) => boolean;
  /**
   * Ephemeral containers reported as running (though nothing runs them), so that a rollback tries to exec into them
   * and meets the API server's authorization; the others stay `ContainerCreating`.
   */
  reportRunning?: (container: { name: string; image?: string }) => boolean;
  /** How often it looks at the pods bound to it. */
  tickMs?: number;
}

export interface NodeStandIn {
  name: string;
  stop(): Promise<void>;
}

const LEASE_RENEW_MS = 5_000;

const statusCode = (error: unknown): number | undefined => (error as { code?: number }).code;

/** Now, as a Lease's MicroTime wants it written (six fractional digits; the client writes three). */
function microTime(): Date {
  const date = new Date();
  const text = `${date.toISOString().slice(0, -1)}000Z`;
  return Object.assign(date, { toISOString: () => text, toJSON: () => text });
}

export async function startNodeStandIn(
  kc: KubeConfig,
  { name = 'node-1', unpullable = () => false, reportRunning = () => false, tickMs = 100 }: NodeStandInOptions = {},
): Promise<NodeStandIn> {
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const now = () => new Date();

  await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name } } } });
  // Read, change, replace: another writer (the node-lifecycle controller) may change the node in between, which the API
  // server answers with 409; the change is then made again on what is there now, as a kubelet does.
  const reportReady = () => onConflictRetry(async () => {
    const node = await core.readNode({ name });
    node.status = {
      ...node.status,
      capacity: { cpu: '16', memory: '64Gi', pods: '250' },
      allocatable: { cpu: '16', memory: '64Gi', pods: '250' },
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'node stand-in', lastHeartbeatTime: now(), lastTransitionTime: now() }],
      nodeInfo: {
        architecture: 'amd64',
        bootID: 'stand-in',
        containerRuntimeVersion: 'stand-in://0',
        kernelVersion: 'stand-in',
        kubeProxyVersion: '',
        kubeletVersion: 'v1.37.2',
        machineID: 'stand-in',
        operatingSystem: 'linux',
        osImage: 'node stand-in',
        systemUUID: 'stand-in',
      },
    };
    await core.replaceNodeStatus({ name, body: node });
  });
  await reportReady();
  const renewLease = () => onConflictRetry(async () => {
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() };
    try {
      const lease = await coordination.readNamespacedLease({ name, namespace: 'kube-node-lease' });
      await coordination.replaceNamespacedLease({ name, namespace: 'kube-node-lease', body: { ...lease, spec: { ...lease.spec, ...spec } } });
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
      await coordination.createNamespacedLease({ namespace: 'kube-node-lease', body: { metadata: { name, namespace: 'kube-node-lease' }, spec } });
    }
  });
  await renewLease();

  let podIp = 1;
  const ips = new Map<string, string>();
  const containerStatus = (container: { name: string; image?: string }, pod: V1Pod): V1ContainerStatus =>
    unpullable(container.image ?? '')
      ? { name: container.name, image: container.image ?? '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull', message: `stand-in: ${container.image} cannot be pulled` } } }
      : {
          name: container.name,
          image: container.image ?? '',
          imageID: `stand-in://${container.image}`,
          containerID: `stand-in://${pod.metadata?.uid}/${container.name}`,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now() } },
        };

  /** One look at the pods bound to this node: start the new, finalize the deleted, report ephemeral containers. */
  const tick = async () => {
    const { items } = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` });
    for (const pod of items) {
      const meta = pod.metadata!;
      const ref = { name: meta.name!, namespace: meta.namespace! };
      try {
        if (meta.deletionTimestamp) {
          // The kubelet confirms a deletion once the containers have stopped: here, when the grace period is over.
          if (new Date(meta.deletionTimestamp).getTime() <= Date.now()) {
            await core.deleteNamespacedPod({ ...ref, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: meta.uid } } });
          }
          continue;
        }
        const started = pod.status?.containerStatuses !== undefined;
        const ephemeral = (pod.spec?.ephemeralContainers ?? []).filter((c) => !pod.status?.ephemeralContainerStatuses?.some((s) => s.name === c.name));
        if (started && ephemeral.length === 0) continue;
        const statuses = (pod.spec?.containers ?? []).map((c) => containerStatus(c, pod));
        const ready = statuses.every((s) => s.ready);
        const at = now();
        const ip = ips.get(meta.uid!) ?? `10.244.0.${podIp++ % 250}`;
        ips.set(meta.uid!, ip);
        pod.status = {
          ...pod.status,
          ...(started
            ? {}
            : {
                phase: ready ? 'Running' : 'Pending',
                hostIP: '127.0.0.1',
                podIP: ip,
                podIPs: [{ ip }],
                startTime: at,
                containerStatuses: statuses,
                conditions: [
                  ...(pod.status?.conditions ?? []).filter((c) => !['Initialized', 'ContainersReady', 'Ready'].includes(c.type)),
                  { type: 'Initialized', status: 'True', lastTransitionTime: at },
                  { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: at },
                  { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: at },
                ],
              }),
          ephemeralContainerStatuses: [
            ...(pod.status?.ephemeralContainerStatuses ?? []),
            ...ephemeral.map((c): V1ContainerStatus =>
              unpullable(c.image ?? '') || reportRunning(c)
                ? containerStatus(c, pod)
                : { name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
            ),
          ],
        };
        await core.replaceNamespacedPodStatus({ ...ref, body: pod });
      } catch (error) {
        // Changed under us (409) or gone (404): the next tick sees it as it is now.
        if (statusCode(error) !== 409 && statusCode(error) !== 404) throw error;
      }
    }
  };

  let stopped = false;
  let failure: unknown;
  let lastLease = Date.now();
  const loop = (async () => {
    while (!stopped) {
      try {
        await tick();
        if (Date.now() - lastLease > LEASE_RENEW_MS) {
          lastLease = Date.now();
          await renewLease();
          await reportReady();
        }
      } catch (error) {
        failure ??= error;
      }
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
  })();

  // Schedulable once the node-lifecycle controller has taken the not-ready taint off.
  const deadline = Date.now() + 60_000;
  while ((await core.readNode({ name })).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready')) {
    if (Date.now() > deadline) throw new Error(`node ${name} still carries the not-ready taint after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    name,
    stop: async () => {
      stopped = true;
      await loop;
      if (failure) throw failure;
    },
  };
}

/** Runs a read-modify-write again when the API server says the object changed meanwhile (409), a few times. */
async function onConflictRetry(write: () => Promise<void>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (statusCode(error) !== 409 || attempt >= attempts) throw error;
    }
  }
}
