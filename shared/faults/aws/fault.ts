/**
 * One AWS fault (ec2_stop, rds_failover, route_blackhole) as the AWS driver composes it: the same four steps as a
 * `FaultDriver`, with the clients for a target's region and role handed in. Each lives in its own module.
 */
import type { FaultContext, RollbackIntent, TargetRef } from '../driver.js';
import type { FaultSpec } from '../../model/experiment.js';
import type { JsonValue } from '../../journal/activity.js';
import type { AwsClientFactory } from './clients.js';

export type AwsChaosType = 'ec2_stop' | 'rds_failover' | 'route_blackhole';
export type AwsSpec = Extract<FaultSpec, { chaos_type: AwsChaosType }>;

export interface AwsFault<S extends AwsSpec = AwsSpec> {
  /** Every target the selector matches that is in a state the fault applies to (e.g. running instances). */
  resolve(spec: S, clients: AwsClientFactory, signal: AbortSignal): Promise<TargetRef[]>;
  /** Snapshot and name the rollback; changes nothing. */
  prepare(spec: S, target: TargetRef, clients: AwsClientFactory, signal: AbortSignal): Promise<RollbackIntent>;
  apply(spec: S, intent: RollbackIntent, clients: AwsClientFactory, context: FaultContext): Promise<JsonValue>;
  /**
   * Idempotent; works from the stored intent alone (`intent.target.details` carries region and role). The driver
   * routes a revert by `intent.params.chaos_type`, so `prepare` must put it there.
   */
  revert(intent: RollbackIntent, clients: AwsClientFactory, context: FaultContext): Promise<JsonValue>;
  /** See `FaultDriver.endEarly`. */
  endEarly?(intent: RollbackIntent, clients: AwsClientFactory, context: FaultContext): Promise<JsonValue | undefined>;
}

/** The region and role a target was resolved with, kept in its details so revert can reach it again. */
export function targetLocation(target: TargetRef): { region: string | undefined; roleArn: string | undefined } {
  const { region, role_arn: roleArn } = target.details as { region?: string; role_arn?: string };
  return { region, roleArn };
}
