/**
 * What the charts read from a journal over time, from journals real runs wrote (ChaosDuck's and the real Chaos
 * Toolkit's) and from the prometheus probe's output shape.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../shared/journal/activity.js';
import { journalTimeline } from '../../../shared/analysis/timeline.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../support/fixtures/journals/${name}.json`, import.meta.url), 'utf8')) as JsonObject;

describe('a ChaosDuck journal', () => {
  it('gives the five phases, the fault, the rollback step, the recovery the fault measured, and the probe with its latency bound', () => {
    const timeline = journalTimeline(fixture('sandbox-pod-delete'));

    expect(timeline.phases.map((p) => p.label)).toEqual(['STEADY_STATE', 'HYPOTHESIS', 'INJECT', 'OBSERVE', 'ROLLBACK']);
    expect(timeline.start).toBe(Date.parse('2026-12-02T05:32:05.166Z'));
    expect(timeline.end).toBe(Date.parse('2026-12-02T05:32:11.265Z'));
    expect(timeline.faults).toEqual([expect.objectContaining({ label: 'pod_delete sandbox/demo/replica-3', kind: 'fault', failed: false })]);
    expect(timeline.rollbacks).toEqual([expect.objectContaining({ label: 'rollback await_replica_recovery sandbox/demo/replica-3', failed: false })]);
    // From the kill to the replacement being ready: the fault's own measure (258 ms).
    expect(timeline.recoveries).toHaveLength(1);
    expect(timeline.recoveries[0]?.label).toBe('sandbox/demo/replica-3');
    expect((timeline.recoveries[0]?.end ?? 0) - (timeline.recoveries[0]?.start ?? 0)).toBe(258);
    expect(timeline.probes).toHaveLength(1);
    expect(timeline.probes[0]).toMatchObject({ name: 'demo-answers', measure: 'latency', tolerance: { kind: 'max', value: 500 } });
    // Before, three ticks during, after: each check's latency as the probe measured it.
    expect(timeline.probes[0]?.checks.map((c) => c.y)).toEqual([23, 8, 11, 5, 7]);
    expect(timeline.faultWindow).toEqual({ start: Date.parse('2026-12-02T05:32:05.203Z'), end: Date.parse('2026-12-02T05:32:11.261Z') });
  });

  it('marks the checks that failed and the phase that failed', () => {
    const timeline = journalTimeline(fixture('sandbox-latency-deviated'));

    const checks = timeline.probes[0]?.checks ?? [];
    expect(checks.map((c) => c.failed)).toEqual([false, true, true, true]);
    expect(checks.filter((c) => c.failed).every((c) => (c.y ?? 0) > 500)).toBe(true);
    expect(checks[1]?.label).toMatch(/^demo-answers during the fault \(tick 1\): \d+ ms — failed/);
    expect(timeline.phases.find((p) => p.label === 'OBSERVE')?.failed).toBe(true);
    expect(timeline.faults).toHaveLength(3);
    expect(timeline.rollbacks).toHaveLength(3);
  });
});

describe('a Chaos Toolkit journal', () => {
  const timeline = journalTimeline(fixture('chaostoolkit'));

  it('works out the phases from what ran: the checks before, the method, the checks after, the rollbacks', () => {
    expect(timeline.phases.map((p) => p.label)).toEqual(['STEADY_STATE', 'INJECT', 'OBSERVE', 'ROLLBACK']);
    expect(timeline.faults.map((f) => f.label)).toEqual(['restart-worker', 'pause']);
    expect(timeline.rollbacks.map((r) => r.label)).toEqual(['start-worker']);
    expect(timeline.recoveries).toEqual([]);
  });

  it("charts each probe's latency, the method's probe too, and draws no latency bound from a status tolerance", () => {
    expect(timeline.probes.map((p) => [p.name, p.measure, p.checks.length])).toEqual([
      ['service-answers', 'latency', 5],
      ['queue-depth', 'latency', 5],
      ['slow-endpoint', 'latency', 1],
    ]);
    expect(timeline.probes.every((p) => p.tolerance === undefined)).toBe(true);
    // The slow endpoint sleeps 300 ms before answering.
    expect(timeline.probes[2]?.checks[0]?.y).toBeGreaterThanOrEqual(300);
  });
});

describe('a probe that records a value', () => {
  const check = (start: string, output: JsonObject | number, met: boolean) => ({
    activity: { type: 'probe', name: 'error-ratio', provider: { type: 'prometheus' } },
    start,
    end: start,
    status: met ? 'succeeded' : 'failed',
    tolerance_met: met,
    output,
  });
  const journal = (tolerance: JsonObject) => ({
    start: '2026-03-01T10:00:00Z',
    end: '2026-03-01T10:00:10Z',
    steady_states: {
      before: { probes: [check('2026-03-01T10:00:01Z', { value: 0.01, tolerance }, true)] },
      during: [{ tick: 1, probes: [check('2026-03-01T10:00:03Z', { value: 0.2, tolerance }, false)] }, { tick: 2, probes: [check('2026-03-01T10:00:05Z', { value: null, tolerance }, false)] }],
      after: { probes: [check('2026-03-01T10:00:08Z', { value: 0.02, tolerance }, true)] },
    },
    run: [],
    rollbacks: [],
  });

  it('is charted by its value, a check without one kept, with the tolerance it recorded', () => {
    const [series] = journalTimeline(journal({ lt: 0.05 })).probes;

    expect(series).toMatchObject({ name: 'error-ratio', measure: 'value', tolerance: { kind: 'max', value: 0.05, label: '< 0.05' } });
    expect(series?.checks.map((c) => [c.y, c.failed])).toEqual([
      [0.01, false],
      [0.2, true],
      [null, true],
      [0.02, false],
    ]);
  });

  it.each([
    [{ gt: 0.9 }, { kind: 'min', value: 0.9, label: '> 0.9' }],
    [{ equals: 1 }, { kind: 'equals', value: 1, label: '= 1' }],
    [{ range: [0.99, 1] }, { kind: 'range', from: 0.99, to: 1, label: 'within [0.99, 1]' }],
    [{ gt: 0, lt: 1 }, { kind: 'range', from: 0, to: 1, label: '> 0 and < 1' }],
    [{ lt: 0.00001 }, { kind: 'max', value: 0.00001, label: '< 0.00001' }],
    [{ gt: 1234.5678 }, { kind: 'min', value: 1234.5678, label: '> 1234.5678' }],
  ])('draws the tolerance %j as %j, its bounds as they were given', (tolerance, drawn) => {
    expect(journalTimeline(journal(tolerance)).probes[0]?.tolerance).toEqual(drawn);
  });

  it('writes each value with the digits that tell it from its bounds, and why a check failed', () => {
    const failing = { ...check('2026-03-01T10:00:03Z', { value: 0.985, tolerance: { range: [0.99, 1] }, failures: ['availability = 0.985, expected within [0.99, 1]'] }, false) };
    const [series] = journalTimeline({ start: '2026-03-01T10:00:00Z', steady_states: { before: { probes: [failing] }, during: [], after: null }, run: [], rollbacks: [] }).probes;

    expect(series?.checks[0]?.label).toBe('error-ratio before the fault: 0.985 — failed: availability = 0.985, expected within [0.99, 1]');
  });
});

describe('a prometheus probe, from a real run against a real Prometheus', () => {
  const timeline = journalTimeline(fixture('sandbox-prometheus'));
  const series = (name: string) => timeline.probes.find((probe) => probe.name === name);

  it('charts each probe by the value it read, with the tolerance it recorded', () => {
    expect(timeline.probes.map((p) => [p.name, p.measure, p.tolerance?.label])).toEqual([
      ['health-latency', 'value', '< 0.25'],
      ['scrape-duration', 'value', 'within [0, 0.5]'],
      ['error-ratio', 'value', '< 0.01'],
    ]);
    // Small values before the fault, past 0.25 s once 300 ms were added to every replica.
    const latency = series('health-latency')?.checks ?? [];
    expect(latency[0]?.y).toBeLessThan(0.25);
    expect(latency.filter((c) => c.failed).every((c) => (c.y ?? 0) >= 0.25)).toBe(true);
    // 0.028513917 read, written with four significant digits (it used to read 0.03; 0.0000285 would have read 0).
    expect(latency[0]?.label).toBe('health-latency before the fault: 0.02851');
  });

  it('keeps a probe whose every check got no value a value series, each check without one, never 0 nor a latency', () => {
    const errors = series('error-ratio');

    expect(errors?.checks.length).toBeGreaterThan(0);
    expect(errors?.checks.every((c) => c.y === null && c.failed)).toBe(true);
    expect(errors?.checks[0]?.label).toMatch(/^error-ratio during the fault \(tick 1\): no value — failed: the query returned no series/);
  });
});

describe('a journal with little in it', () => {
  it('gives empty rows, not an error, and takes its times from what it has', () => {
    const timeline = journalTimeline({ status: 'failed', steady_states: { before: null, after: null, during: [] }, run: [], rollbacks: [] });

    expect(timeline).toMatchObject({ phases: [], faults: [], checks: [], rollbacks: [], recoveries: [], probes: [], faultWindow: null });
  });
});
