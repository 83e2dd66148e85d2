/**
 * A fault driver knows one kind of target (the local sandbox, a Kubernetes cluster, AWS) and can apply and undo the
 * faults that kind supports. The lifecycle drives it in a fixed order that makes rollback write-ahead:
 *
 *   resolve → (select, guardrails, lease) → prepare → [rollback entry written to DynamoDB] → apply
 *
 * `prepare` has no side effects: it snapshots the prior state and names the compensating action. Only after that
 * has been stored does `apply` change anything, so a crash at any moment leaves a rollback entry that `revert` can
 * finish — even in a later process, from the stored entry alone.
 */
import type { ChaosType, FaultSpec } from '../model/experiment.js';
import type { JsonObject, JsonValue } from '../journal/activity.js';

/** One concrete target, as resolved at injection time. */
export interface TargetRef {
  provider: string;
  /** Stable id within the provider (`sandbox/demo/replica-2`, `default/nginx-7d9f/pod-abc`, `i-0123…`). */
  id: string;
  labels: Record<string, string>;
  /** Extra facts the driver wants back later (namespace, owner, region…). */
  details: JsonObject;
}

/** The compensating action, written to the rollback stack before the fault is applied. */
export interface RollbackIntent {
  provider: string;
  /** Driver-specific action name, e.g. `await_replica_recovery`, `remove_proxy_fault`, `stop_stress_workers`. */
  action: string;
  target: TargetRef;
  /** Everything `revert` needs, so it can run in another process after a crash. */
  params: JsonObject;
  /** The state before the fault, for restoring and for the journal. */
  snapshot: JsonObject;
}

export interface FaultContext {
  experimentId: string;
  /** Sequence number of this fault's rollback entry; drivers tag what they create with it, so revert can find it. */
  rollbackSeq: number;
  signal: AbortSignal;
  /** Epoch ms past which the experiment has overrun `safety.timeout_seconds` (apply only): a fault that waits for
   * something to start waits no longer than this. */
  deadline?: number;
}

export interface FaultDriver {
  readonly provider: string;
  readonly chaosTypes: readonly ChaosType[];
  /** Every target the spec's selector matches and the fault can apply to (e.g. only running replicas). */
  resolve(spec: FaultSpec, signal: AbortSignal): Promise<TargetRef[]>;
  /** Snapshot and name the rollback; must not change anything. */
  prepare(spec: FaultSpec, target: TargetRef, signal: AbortSignal): Promise<RollbackIntent>;
  /** Apply the fault. Faults that can carry their own expiry must (a dead-man's switch after `duration_seconds`). */
  apply(spec: FaultSpec, intent: RollbackIntent, context: FaultContext): Promise<JsonValue>;
  /** Undo the fault. Idempotent: reverting twice, or reverting a fault that was never applied, succeeds. */
  revert(intent: RollbackIntent, context: FaultContext): Promise<JsonValue>;
  /**
   * For faults with an end of their own before the rollback (ec2_stop's `start_after_seconds`): end it if that time
   * has come, and say what was done; `undefined` when nothing was due. OBSERVE calls it on every tick; idempotent.
   */
  endEarly?(intent: RollbackIntent, context: FaultContext): Promise<JsonValue | undefined>;
  /**
   * How the target is coming through the fault, for faults whose recovery is the point (pod_delete: the owner's
   * ready replicas, and the time to recovery once it is back); `undefined` when there is nothing to say. OBSERVE
   * records it on every tick; read-only.
   */
  observe?(intent: RollbackIntent, context: FaultContext): Promise<JsonValue | undefined>;
}

export type DriverRegistry = ReadonlyMap<string, FaultDriver>;
