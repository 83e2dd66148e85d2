/**
 * FIS-style target selection (`ALL`, `COUNT(n)`, `PERCENT(n)`), capped by `safety.max_blast_radius`: the largest
 * fraction of the matching targets that one experiment may hit.
 */
import * as z from 'zod';
import { BlastRadiusExceededError, NoTargetsError } from '../errors.js';

export type Selection = { mode: 'ALL' } | { mode: 'COUNT'; count: number } | { mode: 'PERCENT'; percent: number };

const SELECTION = /^(?:ALL|COUNT\((\d+)\)|PERCENT\((\d+(?:\.\d+)?)\))$/;

export const selectionSchema = z
  .string()
  .default('COUNT(1)')
  .superRefine((text, ctx) => {
    const match = SELECTION.exec(text);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not ALL, COUNT(n) or PERCENT(n)` });
    } else if (match[1] !== undefined && Number(match[1]) < 1) {
      ctx.addIssue({ code: 'custom', message: 'COUNT(n) needs n >= 1' });
    } else if (match[2] !== undefined && !(Number(match[2]) > 0 && Number(match[2]) <= 100)) {
      ctx.addIssue({ code: 'custom', message: 'PERCENT(n) needs 0 < n <= 100' });
    }
  });

export function parseSelection(text: string): Selection {
  const match = SELECTION.exec(text);
  if (!match) throw new TypeError(`invalid selection ${text}`);
  if (match[1] !== undefined) return { mode: 'COUNT', count: Number(match[1]) };
  if (match[2] !== undefined) return { mode: 'PERCENT', percent: Number(match[2]) };
  return { mode: 'ALL' };
}

export interface SelectionPlan<T> {
  selected: T[];
  matching: number;
  requested: number;
  /** The most targets `max_blast_radius` allows. */
  allowed: number;
  /** True when the blast-radius cap cut the request down. */
  capped: boolean;
}

/**
 * Picks targets at random (as FIS does for COUNT and PERCENT) without going past the blast-radius cap.
 * Refuses, rather than picking nothing, when the cap allows no target at all or nothing matches.
 */
export function selectTargets<T>(
  candidates: readonly T[],
  selectionText: string,
  maxBlastRadius: number,
  random: () => number = Math.random,
): SelectionPlan<T> {
  const matching = candidates.length;
  if (matching === 0) throw new NoTargetsError('no target matches target selector');
  const selection = parseSelection(selectionText);
  // PERCENT multiplies before dividing: (29 / 100) * 50 is 14.499999999999998 in floating point, not 14.5.
  const requested =
    selection.mode === 'ALL'
      ? matching
      : selection.mode === 'COUNT'
        ? Math.min(selection.count, matching)
        : Math.max(1, Math.round((selection.percent * matching) / 100));
  // A tiny epsilon keeps 0.3 * 10 from flooring to 2 through floating-point error.
  const allowed = Math.floor(maxBlastRadius * matching + 1e-9);
  if (allowed < 1) {
    // Round the suggestion up, not to nearest: 0.33 of 3 targets still allows none, 0.34 allows one.
    const needed = (Math.ceil(100 / matching) / 100).toFixed(2);
    throw new BlastRadiusExceededError(
      `max_blast_radius ${maxBlastRadius} of ${matching} matching target(s) allows none; raise safety.max_blast_radius to at least ${needed}`,
    );
  }
  const count = Math.min(requested, allowed);
  const shuffled = [...candidates];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as T, shuffled[i] as T];
  }
  return { selected: shuffled.slice(0, count), matching, requested, allowed, capped: count < requested };
}
