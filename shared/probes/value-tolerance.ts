/**
 * Judging a number against a value tolerance (`equals`, `lt`, `gt`, `range`; see `valueToleranceSchema`). Kept apart
 * from the probe that measures the number, so the stop-condition rules and the journal's analysis can judge a
 * recorded value the same way without loading the probe.
 */
import type { ValueTolerance } from '../model/experiment.js';

export function withinTolerance(value: number, tolerance: ValueTolerance): boolean {
  if (!Number.isFinite(value)) return false;
  if (tolerance.equals !== undefined) return value === tolerance.equals;
  if (tolerance.range !== undefined) return value >= tolerance.range[0] && value <= tolerance.range[1];
  return (tolerance.lt === undefined || value < tolerance.lt) && (tolerance.gt === undefined || value > tolerance.gt);
}

/**
 * Whether `value` was measured out of tolerance: a finite value not within it, or an infinity past a bound (+Inf
 * against `lt` or a range's maximum, -Inf against `gt` or its minimum, either against `equals`) — a +Inf latency or
 * error ratio is out of `lt` however it came about. NaN measured nothing, and an infinity on a bound's open side
 * (+Inf against `gt` alone) is no number a tolerance can place: neither is out, though neither is within.
 */
export function outOfTolerance(value: number, tolerance: ValueTolerance): boolean {
  if (Number.isNaN(value)) return false;
  return Number.isFinite(value) ? !withinTolerance(value, tolerance) : breach(value, tolerance) > 0;
}

/** `+Inf`, `-Inf`, `NaN`, as Prometheus writes them: a journal keeps them as text, since JSON has no such numbers. */
export type NonFinite = '+Inf' | '-Inf' | 'NaN';

export function nonFiniteText(value: number): NonFinite {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
}

/** The number `nonFiniteText` wrote, or undefined for anything else. */
export function nonFiniteValue(text: unknown): number | undefined {
  return text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : text === 'NaN' ? Number.NaN : undefined;
}

/**
 * How far past its nearest bound `value` is: positive outside the tolerance, negative (the margin left) inside it, so
 * of several values the largest is the worst — the one a chart of "the value" should show.
 */
export function breach(value: number, tolerance: ValueTolerance): number {
  if (tolerance.equals !== undefined) return Math.abs(value - tolerance.equals);
  const upper = tolerance.range?.[1] ?? tolerance.lt;
  const lower = tolerance.range?.[0] ?? tolerance.gt;
  return Math.max(upper === undefined ? -Infinity : value - upper, lower === undefined ? -Infinity : lower - value);
}

/** `< 0.05`, `> 0 and < 1`, `= 1`, `within [0.99, 1]`: what "expected" means, for failures and findings. */
export function describeTolerance(tolerance: ValueTolerance): string {
  if (tolerance.equals !== undefined) return `= ${tolerance.equals}`;
  if (tolerance.range !== undefined) return `within [${tolerance.range[0]}, ${tolerance.range[1]}]`;
  return [tolerance.gt === undefined ? '' : `> ${tolerance.gt}`, tolerance.lt === undefined ? '' : `< ${tolerance.lt}`].filter(Boolean).join(' and ');
}
