/** The five phases, the statuses an experiment can be in, and the records the lifecycle keeps. */
import type { ExperimentSpec } from './experiment.js';
import type { ActivityRecord, JsonObject } from '../journal/activity.js';
import type { RollbackIntent } from '../faults/driver.js';

export const PHASES = ['STEADY_STATE', 'HYPOTHESIS', 'INJECT', 'OBSERVE', 'ROLLBACK'] as const;
export type Phase = (typeof PHASES)[number];

export const FINAL_STATUSES = ['completed', 'failed', 'aborted', 'rolled_back', 'emergency_stopped'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export type ExperimentStatus = 'pending' | 'running' | FinalStatus;

export function isFinal(status: ExperimentStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export interface ExperimentRecord {
  id: string;
  spec: ExperimentSpec;
  status: ExperimentStatus;
  phase?: Phase;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  endedAt?: string;
  executionArn?: string;
  /** Which runtime runs it (local runtime id); the recovery sweep takes over experiments whose owner is gone. */
  owner?: string;
  /** Why it ended the way it did (error name or `steady_state_not_met`, `emergency_stop`…). */
  reason?: string;
  /** When it ended on an error: the error's name and message, e.g. why a target could not be reached. */
  error?: string;
  deviated?: boolean;
  /** Targets leased by INJECT (`provider:id`), released when the experiment ends. */
  leases?: string[];
}

/**
 * `skipped`: a declared Chaos Toolkit rollback that the rollback strategy given explicitly said not to play (the
 * automatic rollback of a fault is never skipped).
 */
export type RollbackState = 'pending' | 'done' | 'failed' | 'skipped';

/** An entry that needs nothing more: reverted, or deliberately not played. */
export function isSettled(entry: { state: RollbackState }): boolean {
  return entry.state === 'done' || entry.state === 'skipped';
}

export interface RollbackEntry extends RollbackIntent {
  seq: number;
  state: RollbackState;
  createdAt: string;
  /** The revert, recorded as a Chaos Toolkit activity once it ran. */
  outcome?: ActivityRecord;
  /** Set when the stored entry could not be read: why. Such an entry counts as a failed step; its target is unknown. */
  corrupt?: string;
}

/** One line of the journal's event log; also what progress subscribers receive. */
export interface JournalEvent {
  experimentId: string;
  at: string;
  type:
    | 'experiment.started'
    /** A rollback run (manual rollback, emergency stop, interruption, recovery) claimed the experiment. */
    | 'rollback.started'
    | 'phase.started'
    | 'phase.completed'
    | 'phase.failed'
    | 'probe.result'
    | 'hypothesis.formed'
    | 'fault.planned'
    | 'fault.applied'
    | 'fault.ended'
    | 'fault.observed'
    | 'rollback.step'
    /** A Chaos Toolkit method activity ran (its record, in the journal's `run`). */
    | 'activity.completed'
    /** The Chaos Toolkit hypothesis was checked (`when`: before, during, after). */
    | 'hypothesis.checked'
    | 'experiment.finished';
  phase?: Phase;
  detail: JsonObject;
}

export interface PhaseResult {
  phase: Phase;
  status: 'succeeded' | 'failed' | 'skipped';
  start: string;
  end: string;
  detail: JsonObject;
}
