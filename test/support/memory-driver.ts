/**
 * An in-memory fault driver for state-machine tests and benchmarks: its targets are records in a Map, a fault sets a
 * flag on them, and rollback clears it. It exercises the whole lifecycle (selection, leases, write-ahead stack,
 * LIFO rollback) without processes or network, and can be told to fail at chosen points.
 */
import type { ChaosType } from '../../shared/model/experiment.js';
import { KUBERNETES_CHAOS_TYPES } from '../../shared/model/experiment.js';
import type { FaultDriver, RollbackIntent, TargetRef } from '../../shared/faults/driver.js';

export interface MemoryTarget {
  id: string;
  labels: Record<string, string>;
  faulted: boolean;
}

export interface MemoryDriverOptions {
  provider?: string;
  targets?: number;
  labels?: Record<string, string>;
  /** Extra labels per target (1-based index), e.g. to give each concurrent experiment its own target. */
  labelsOf?: (index: number) => Record<string, string>;
  /** Target ids whose apply throws. */
  failApply?: ReadonlySet<string>;
  /** Target ids whose revert throws. */
  failRevert?: ReadonlySet<string>;
  /** Milliseconds each apply takes (lets a test stop or time out an experiment mid-injection). */
  applyDelayMs?: number;
}

export class MemoryDriver implements FaultDriver {
  readonly provider: string;
  readonly chaosTypes: readonly ChaosType[] = KUBERNETES_CHAOS_TYPES;
  readonly targets = new Map<string, MemoryTarget>();
  /** Every apply and revert, in the order they ran. */
  readonly calls: { op: 'apply' | 'revert'; target: string; seq: number }[] = [];

  constructor(private readonly options: MemoryDriverOptions = {}) {
    this.provider = options.provider ?? 'memory';
    for (let i = 1; i <= (options.targets ?? 3); i++) {
      const id = `replica-${i}`;
      this.targets.set(id, { id, labels: { app: 'demo', ...options.labels, ...options.labelsOf?.(i) }, faulted: false });
    }
  }

  async resolve(spec: Parameters<FaultDriver['resolve']>[0]): Promise<TargetRef[]> {
    const wanted = ('labels' in spec.target ? spec.target.labels : undefined) ?? {};
    const names = 'pod_names' in spec.target ? spec.target.pod_names : undefined;
    return [...this.targets.values()]
      .filter((t) => (names === undefined || names.includes(t.id)) && Object.entries(wanted).every(([k, v]) => t.labels[k] === v))
      .map((t) => ({ provider: this.provider, id: t.id, labels: t.labels, details: {} }));
  }

  async prepare(spec: Parameters<FaultDriver['prepare']>[0], target: TargetRef): Promise<RollbackIntent> {
    return {
      provider: this.provider,
      action: 'clear_fault',
      target,
      params: { chaos_type: spec.chaos_type },
      snapshot: { faulted: this.targets.get(target.id)?.faulted ?? false },
    };
  }

  async apply(_spec: unknown, intent: RollbackIntent, context: { rollbackSeq: number }) {
    this.calls.push({ op: 'apply', target: intent.target.id, seq: context.rollbackSeq });
    if (this.options.applyDelayMs) await new Promise((resolve) => setTimeout(resolve, this.options.applyDelayMs));
    if (this.options.failApply?.has(intent.target.id)) throw new Error(`cannot fault ${intent.target.id}`);
    const target = this.targets.get(intent.target.id);
    if (target) target.faulted = true;
    return { faulted: intent.target.id };
  }

  async revert(intent: RollbackIntent, context: { rollbackSeq: number }) {
    this.calls.push({ op: 'revert', target: intent.target.id, seq: context.rollbackSeq });
    if (this.options.failRevert?.has(intent.target.id)) throw new Error(`cannot restore ${intent.target.id}`);
    const target = this.targets.get(intent.target.id);
    if (target) target.faulted = Boolean(intent.snapshot.faulted);
    return { restored: intent.target.id };
  }

  faulted(): string[] {
    return [...this.targets.values()].filter((t) => t.faulted).map((t) => t.id);
  }
}
