/**
 * An experiment's progress as its dashboard page shows it (dashboard/src/experiments/progress.ts), from what the API
 * answered and the progress events heard since: each event once and in order, where each phase is, the rollback stack
 * with each step, and the probe checks so far read as the report reads a journal.
 */
import { describe, expect, it } from 'vitest';
import { journalSoFar, mergeEvents, phaseStates, rollbackSteps, timelineOf } from '../../../dashboard/src/experiments/progress.js';
import type { JsonObject } from '../../../shared/journal/activity.js';
import type { JournalEvent, PhaseResult } from '../../../shared/model/lifecycle.js';

const ID = 'exp-progress';
const at = (ms: number) => new Date(Date.UTC(2026, 11, 2, 6, 0, 0, ms)).toISOString();
const event = (ms: number, type: JournalEvent['type'], phase: JournalEvent['phase'], detail: JsonObject = {}): JournalEvent => ({
  experimentId: ID,
  at: at(ms),
  type,
  ...(phase ? { phase } : {}),
  detail,
});
/** A probe check as the lifecycle records it: an http probe, its latency, within 500 ms or not. */
const check = (ms: number, latency: number): JsonObject => ({
  activity: { type: 'probe', name: 'answers', provider: { type: 'http', url: 'http://127.0.0.1:9/health', max_latency_ms: 500 } },
  start: at(ms),
  end: at(ms + latency),
  duration: latency / 1000,
  status: 'succeeded',
  output: { status: 200, latency_ms: latency, failures: latency > 500 ? [`latency ${latency} ms exceeds max_latency_ms 500`] : [] },
  tolerance_met: latency <= 500,
});

const STARTED = event(0, 'experiment.started', undefined, { name: 'slow', chaos_type: 'network_latency' });
const BEFORE = event(30, 'probe.result', 'STEADY_STATE', { when: 'before', record: check(10, 20) });
const STEADY = event(31, 'phase.completed', 'STEADY_STATE', { met: true });
const HYPOTHESIS = event(32, 'hypothesis.formed', 'HYPOTHESIS', { statement: 'it keeps answering' });
const PLANNED = event(40, 'fault.planned', 'INJECT', { rollback: [{ action: 'remove_proxy_fault', target: 'sandbox/demo/replica-2' }] });
const APPLIED = event(41, 'fault.applied', 'INJECT', { target: 'sandbox/demo/replica-2', rollbackSeq: 1, record: { activity: { type: 'action', name: 'latency' }, start: at(41), end: at(41), status: 'succeeded' } });
const TICK_1 = event(700, 'probe.result', 'OBSERVE', { when: 'during', tick: 1, record: check(100, 600) });
const TICK_2 = event(1800, 'probe.result', 'OBSERVE', { when: 'during', tick: 2, record: check(1200, 600) });

describe('an experiment page, as events arrive', () => {
  it('keeps each event once, in the order they happened, whichever way it came', () => {
    const read = [STARTED, BEFORE, STEADY];
    const heard = [STEADY, HYPOTHESIS, BEFORE, PLANNED];

    expect(mergeEvents(read, heard)).toEqual([STARTED, BEFORE, STEADY, HYPOTHESIS, PLANNED]);
    expect(mergeEvents([TICK_2], [TICK_1, TICK_2])).toEqual([TICK_1, TICK_2]);
  });

  it('shows where each phase is: running while it has events, done once the next began, skipped when never reached', () => {
    const running = [STARTED, BEFORE, STEADY, HYPOTHESIS, PLANNED, APPLIED, TICK_1];

    expect(phaseStates([], running, 'running')).toEqual({ STEADY_STATE: 'done', HYPOTHESIS: 'done', INJECT: 'done', OBSERVE: 'running', ROLLBACK: 'waiting' });
    expect(phaseStates([], [STARTED, BEFORE, STEADY, HYPOTHESIS, PLANNED], 'running')).toMatchObject({ HYPOTHESIS: 'done', INJECT: 'running', OBSERVE: 'waiting' });
    expect(phaseStates([], [...running, event(900, 'phase.failed', 'OBSERVE', { halted: true })], 'running')).toMatchObject({ INJECT: 'done', OBSERVE: 'failed' });
    // Aborted before any fault: what it never reached was skipped.
    const aborted: PhaseResult[] = [{ phase: 'STEADY_STATE', status: 'failed', start: at(0), end: at(30), detail: {} }];
    expect(phaseStates(aborted, [STARTED, BEFORE], 'aborted')).toEqual({ STEADY_STATE: 'failed', HYPOTHESIS: 'skipped', INJECT: 'skipped', OBSERVE: 'skipped', ROLLBACK: 'skipped' });
    // A rollback that failed leaves its phase failed.
    expect(phaseStates([], [...running, event(2000, 'rollback.step', 'ROLLBACK', { seq: 1, state: 'failed' })], 'failed').ROLLBACK).toBe('failed');
  });

  it('lists the rollback stack last change first: each fault applied with its planned undo, pending until its step is played', () => {
    const stack = [{ seq: 1, action: 'remove_proxy_fault', target: 'sandbox/demo/replica-2', state: 'pending' as const, outcome: null }];
    const second = event(50, 'fault.applied', 'INJECT', { target: 'sandbox/demo/replica-3', rollbackSeq: 2 });

    expect(rollbackSteps([], [PLANNED, APPLIED, second])).toEqual([
      { seq: 2, action: 'undo the fault', target: 'sandbox/demo/replica-3', state: 'pending' },
      { seq: 1, action: 'remove_proxy_fault', target: 'sandbox/demo/replica-2', state: 'pending' },
    ]);
    const played = event(2000, 'rollback.step', 'ROLLBACK', { seq: 1, action: 'remove_proxy_fault', target: 'sandbox/demo/replica-2', state: 'done', record: { status: 'succeeded', duration: 0.002 } });
    expect(rollbackSteps(stack, [PLANNED, APPLIED, played])).toEqual([
      { seq: 1, action: 'remove_proxy_fault', target: 'sandbox/demo/replica-2', state: 'done', record: { status: 'succeeded', duration: 0.002 } },
    ]);
  });

  it('charts the checks so far as the report charts a journal: each check with its latency, against the tolerance', () => {
    const events = [STARTED, BEFORE, STEADY, HYPOTHESIS, PLANNED, APPLIED, TICK_1, TICK_2];

    const journal = journalSoFar(events, []);
    const timeline = timelineOf({ phase_results: [] }, events);

    expect(journal).toMatchObject({ start: at(0), end: at(1800), run: [APPLIED.detail.record], rollbacks: [] });
    expect(timeline.probes).toHaveLength(1);
    expect(timeline.probes[0]?.name).toBe('answers');
    expect(timeline.probes[0]?.measure).toBe('latency');
    expect(timeline.probes[0]?.tolerance).toMatchObject({ kind: 'max', value: 500 });
    expect(timeline.probes[0]?.checks.map((c) => [c.y, c.failed])).toEqual([
      [20, false],
      [600, true],
      [600, true],
    ]);
    // Once ended, its own journal is the one read.
    const ended = timelineOf({ phase_results: [], journal: { ...journal, steady_states: { before: { probes: [check(10, 20)] }, during: [], after: null } } }, events);
    expect(ended.probes[0]?.checks).toHaveLength(1);
  });
});
