/**
 * An experiment's progress as its page shows it, from what GET /api/chaos/experiments/{id} answered and the progress
 * events that came since over the WebSocket: which phase is where, the rollback stack and each step, and the probe
 * checks so far laid out as a journal is (so the report's own reading of a journal, shared/analysis/timeline.ts, draws
 * them the same way while it runs as once it has ended). Pure functions over plain data.
 */
import { journalTimeline, type JournalTimeline } from '../../../shared/analysis/timeline.js';
import type { JsonObject, JsonValue } from '../../../shared/journal/activity.js';
import { PHASES, type JournalEvent, type Phase, type PhaseResult } from '../../../shared/model/lifecycle.js';
import type { ExperimentDetail } from '../types.js';

export type PhaseState = 'waiting' | 'running' | 'done' | 'failed' | 'skipped';

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'aborted', 'rolled_back', 'emergency_stopped']);

/** Events that are the same event (one read from the API and also heard live) have the same key. */
const keyOf = (event: JournalEvent) => `${event.at}|${event.type}|${event.phase ?? ''}|${JSON.stringify(event.detail)}`;

/** `known` and `more` together, each event once, in the order they happened. */
export function mergeEvents(known: readonly JournalEvent[], more: readonly JournalEvent[]): JournalEvent[] {
  const seen = new Set(known.map(keyOf));
  const merged = [...known];
  for (const event of more) {
    const key = keyOf(event);
    if (!seen.has(key)) {
      seen.add(key);
      merged.push(event);
    }
  }
  // Stable: events of the same millisecond keep the order they were published in.
  return merged.map((event, index) => ({ event, index })).sort((a, b) => a.event.at.localeCompare(b.event.at) || a.index - b.index).map(({ event }) => event);
}

/**
 * Where each phase is. Recorded phase results say it outright; events fill in the phases still going: a phase with an
 * event is running, done once a later phase has begun (or its `phase.completed` came), failed on `phase.failed`. Once
 * the experiment has ended, a phase it never reached was skipped.
 */
export function phaseStates(results: readonly PhaseResult[], events: readonly JournalEvent[], status: string): Record<Phase, PhaseState> {
  const states = Object.fromEntries(PHASES.map((phase) => [phase, 'waiting'])) as Record<Phase, PhaseState>;
  const recorded = new Set<Phase>();
  for (const result of results) {
    states[result.phase] = result.status === 'succeeded' ? 'done' : result.status;
    recorded.add(result.phase);
  }
  for (const event of events) {
    const phase = event.phase;
    if (!phase || recorded.has(phase)) continue;
    if (event.type === 'phase.completed') states[phase] = 'done';
    else if (event.type === 'phase.failed') states[phase] = 'failed';
    else if (states[phase] === 'waiting') states[phase] = 'running';
  }
  const latest = PHASES.reduce((last, phase, index) => (states[phase] !== 'waiting' ? index : last), -1);
  PHASES.forEach((phase, index) => {
    if (states[phase] === 'running' && (index < latest || FINAL_STATUSES.has(status))) states[phase] = phase === 'ROLLBACK' && status === 'failed' ? 'failed' : 'done';
    if (states[phase] === 'waiting' && FINAL_STATUSES.has(status)) states[phase] = 'skipped';
  });
  return states;
}

export interface RollbackStep {
  seq: number;
  action: string;
  target: string;
  /** pending until it is played: done, failed or skipped. */
  state: string;
  /** Its record once played (the activity, its output or exception). */
  record?: JsonObject;
}

/**
 * The rollback stack, last change first (the order it is played in): what the API last said, then each fault applied
 * since (its undo written down first) and each step played since.
 */
export function rollbackSteps(stack: ExperimentDetail['rollback_stack'], events: readonly JournalEvent[]): RollbackStep[] {
  const steps = new Map<number, RollbackStep>();
  for (const entry of stack) steps.set(entry.seq, { seq: entry.seq, action: entry.action, target: entry.target, state: entry.state, ...(entry.outcome ? { record: entry.outcome } : {}) });
  /** The undo of each target's fault, as the plan wrote it down before applying it. */
  const planned = new Map<string, string>();
  for (const event of events) {
    const detail = event.detail;
    if (event.type === 'fault.planned' && Array.isArray(detail.rollback)) {
      for (const step of detail.rollback) if (isObject(step)) planned.set(String(step.target), String(step.action));
    }
    if (event.type === 'fault.applied' && typeof detail.rollbackSeq === 'number' && !steps.has(detail.rollbackSeq)) {
      const target = String(detail.target ?? '');
      steps.set(detail.rollbackSeq, { seq: detail.rollbackSeq, action: planned.get(target) ?? 'undo the fault', target, state: 'pending' });
    }
    if (event.type === 'rollback.step' && typeof detail.seq === 'number') {
      const known = steps.get(detail.seq);
      steps.set(detail.seq, {
        seq: detail.seq,
        action: String(detail.action ?? known?.action ?? ''),
        target: String(detail.target ?? known?.target ?? ''),
        state: String(detail.state ?? 'done'),
        ...(isObject(detail.record) ? { record: detail.record } : known?.record ? { record: known.record } : {}),
      });
    }
  }
  return [...steps.values()].sort((a, b) => b.seq - a.seq);
}

/** The progress so far laid out as a journal is (steady states before, during by tick, after; faults; rollbacks). */
export function journalSoFar(events: readonly JournalEvent[], results: readonly PhaseResult[]): JsonObject {
  const records = (when: string) => events.filter((e) => e.type === 'probe.result' && e.detail.when === when).map((e) => e.detail.record as JsonValue);
  const ticks = new Map<number, JsonValue[]>();
  for (const event of events) {
    if (event.type === 'probe.result' && event.detail.when === 'during') {
      const tick = Number(event.detail.tick ?? 0);
      ticks.set(tick, [...(ticks.get(tick) ?? []), event.detail.record as JsonValue]);
    }
  }
  return {
    ...(events[0] ? { start: events[0].at } : {}),
    ...(events.at(-1) ? { end: (events.at(-1) as JournalEvent).at } : {}),
    steady_states: { before: { probes: records('before') }, during: [...ticks].map(([tick, probes]) => ({ tick, probes })), after: { probes: records('after') } },
    run: events.filter((e) => e.type === 'fault.applied').map((e) => e.detail.record as JsonValue),
    rollbacks: events.filter((e) => e.type === 'rollback.step').map((e) => e.detail.record as JsonValue),
    chaosduck: { phases: results as unknown as JsonValue },
  };
}

/** The timeline to chart: the journal's once the experiment has one, else the progress so far. */
export function timelineOf(detail: Pick<ExperimentDetail, 'journal' | 'phase_results'>, events: readonly JournalEvent[]): JournalTimeline {
  return journalTimeline(detail.journal ?? journalSoFar(events, detail.phase_results));
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
