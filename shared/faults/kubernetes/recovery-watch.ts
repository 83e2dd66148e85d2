/**
 * How long a deleted pod took to come back, to the millisecond: watch events from the moment the deletion was
 * accepted until a ready replacement from the same controller is seen. The API's own timestamps (a pod's creation,
 * its Ready condition's transition) have whole-second resolution, too coarse for recoveries that take a second or two.
 *
 * A watch lives in the process that deleted the pod. The embedded runtime is one process, so it measures this way; a
 * process that did not see the recovery happen (a Lambda function, or a start after a crash) falls back to the API's
 * timestamps, and says so in the result.
 */
import { Watch, type V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from './cluster.js';
import { controllerOf, labelSelector } from './targets.js';

export interface WatchedRecovery {
  /** Epoch ms: the API server had accepted the deletion. */
  deletedAt: number;
  /** Epoch ms: a ready replacement was first seen, and which. */
  readyAt?: number;
  replacement?: string;
}

export interface RecoveryWatchRequest {
  namespace: string;
  labels: Record<string, string>;
  /** The deleted pod's controller: its pods are the replacements. */
  controllerUid: string;
  deletedUid: string;
  deletedAt: number;
  /** The watch gives up after this long (the rollback's own wait). */
  timeoutMs: number;
}

const isReady = (pod: V1Pod) => pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The recoveries being watched in this process, by fault (experiment id and rollback sequence). */
export class RecoveryWatches {
  private readonly watches = new Map<string, { recovery: WatchedRecovery; stop: () => void }>();

  static key(experimentId: string, rollbackSeq: number): string {
    return `${experimentId}#${rollbackSeq}`;
  }

  /** Starts watching; a watch that cannot start is no error (the API timestamps remain). */
  async start(key: string, clients: KubeClients, request: RecoveryWatchRequest): Promise<void> {
    const recovery: WatchedRecovery = { deletedAt: request.deletedAt };
    let controller: AbortController | undefined;
    const stop = () => {
      clearTimeout(timer);
      controller?.abort();
    };
    const timer = setTimeout(stop, request.timeoutMs);
    timer.unref();
    this.watches.set(key, { recovery, stop });
    try {
      controller = await new Watch(clients.config).watch(
        `/api/v1/namespaces/${request.namespace}/pods`,
        { labelSelector: labelSelector(request.labels) },
        (_type: string, pod: V1Pod) => {
          if (recovery.readyAt !== undefined || pod.metadata?.uid === request.deletedUid || pod.metadata?.deletionTimestamp) return;
          if (controllerOf(pod.metadata)?.uid !== request.controllerUid || !isReady(pod)) return;
          recovery.readyAt = Date.now();
          recovery.replacement = pod.metadata?.name;
          stop();
        },
        () => undefined,
      );
      if (recovery.readyAt !== undefined) controller.abort();
    } catch {
      clearTimeout(timer);
    }
  }

  /** What the watch saw of this fault's recovery, if it was watched here. */
  seen(key: string): WatchedRecovery | undefined {
    return this.watches.get(key)?.recovery;
  }

  stop(key: string): void {
    this.watches.get(key)?.stop();
    this.watches.delete(key);
  }
}
