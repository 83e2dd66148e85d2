/**
 * FIS-style target selection (`ALL`, `COUNT(n)`, `PERCENT(n)`), capped by `safety.max_blast_radius`: the largest
 * fraction of the matching targets that one experiment may hit.
 */
import * as z from 'zod';
import { BlastRadiusExceededError, NoTargetsError, TargetLeasedError } from '../errors.js';

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
  /** The most targets `max_blast_radius` allows (all of them for targets named exactly). */
  allowed: number;
  /** True when the blast-radius cap, or targets held by other experiments, cut the request down. */
  capped: boolean;
  /** Matching targets passed over because another experiment holds them. */
  held: T[];
}

export interface SelectionOptions<T> {
  /** The target field naming targets exactly (`instance_ids`, `pod_names`…): the user's choice, not capped by ratio. */
  explicitField?: string;
  /** Who holds a target, if another experiment does: such targets are never picked. */
  holderOf?: (target: T) => string | undefined;
  /** How to name a target in an error. */
  describe?: (target: T) => string;
  /** The selector, as the refusal of an empty match names it. */
  selector?: string;
}

/**
 * The least `max_blast_radius` (two decimals, rounded up) that lets `count` of `matching` targets be hit: 0.34 for one
 * of three. Generated experiments set it when they know the pool's size.
 */
export function blastRadiusFor(count: number, matching: number): string {
  return (Math.ceil((100 * Math.min(count, matching)) / matching) / 100).toFixed(2);
}

/** One experiment hits at most this many targets (each is a lease, a rollback entry, a line of the journal). */
export const MAX_SELECTED_TARGETS = 100;

/**
 * Picks targets at random (as FIS does for COUNT and PERCENT) among those no other experiment holds, without going
 * past the blast-radius cap. The cap is a share of a pool (labels, tags); targets named exactly are the user's own
 * choice and are not capped by it. Refuses, rather than picking nothing, when nothing matches, the cap allows no
 * target at all, or every match is held.
 */
export function selectTargets<T>(
  candidates: readonly T[],
  selectionText: string,
  maxBlastRadius: number,
  random: () => number = Math.random,
  { explicitField, holderOf = () => undefined, describe = String, selector }: SelectionOptions<T> = {},
): SelectionPlan<T> {
  const matching = candidates.length;
  if (matching === 0) {
    throw new NoTargetsError(
      explicitField
        ? `none of the targets in target.${explicitField} can be selected (not found, or not in a state the fault applies to)`
        : `no target matches ${selector ?? 'the target selector'} (only targets in a state the fault applies to count, e.g. Running pods)`,
    );
  }
  const selection = parseSelection(selectionText);
  // PERCENT multiplies before dividing: (29 / 100) * 50 is 14.499999999999998 in floating point, not 14.5.
  const requested =
    selection.mode === 'ALL'
      ? matching
      : selection.mode === 'COUNT'
        ? Math.min(selection.count, matching)
        : Math.max(1, Math.round((selection.percent * matching) / 100));
  // A tiny epsilon keeps 0.3 * 10 from flooring to 2 through floating-point error.
  const allowed = explicitField ? matching : Math.floor(maxBlastRadius * matching + 1e-9);
  if (allowed < 1) {
    // Round the suggestion up, not to nearest: 0.33 of 3 targets still allows none, 0.34 allows one.
    const needed = blastRadiusFor(1, matching);
    const all = blastRadiusFor(requested, matching);
    throw new BlastRadiusExceededError(
      `max_blast_radius ${maxBlastRadius} of ${matching} matching target(s) allows none; raise safety.max_blast_radius to at least ${needed}`,
      [
        {
          field: 'safety.max_blast_radius',
          message: `${maxBlastRadius} of ${matching} matching target(s) allows none: ${needed} is the least that allows one${requested > 1 ? `, ${all} all ${requested} requested` : ''}`,
        },
      ],
    );
  }
  const count = Math.min(requested, allowed);
  if (count > MAX_SELECTED_TARGETS) {
    throw new BlastRadiusExceededError(
      `this selection would hit ${count} targets; one experiment may hit at most ${MAX_SELECTED_TARGETS}: narrow the target or use COUNT(n) in target.selection`,
    );
  }
  const held = candidates.filter((target) => holderOf(target) !== undefined);
  const heldBy = (targets: readonly T[]) => targets.map((target) => `${describe(target)} by ${holderOf(target)}`).join(', ');
  if (held.length === matching) {
    throw new TargetLeasedError(`every matching target is held by another experiment (${heldBy(held)}); wait until they end`);
  }
  if (explicitField && selection.mode === 'ALL' && held.length > 0) {
    throw new TargetLeasedError(`targets named in target.${explicitField} are held by another experiment (${heldBy(held)}); wait until they end, or leave them out`);
  }
  const free = candidates.filter((target) => holderOf(target) === undefined);
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [free[i], free[j]] = [free[j] as T, free[i] as T];
  }
  const selected = free.slice(0, count);
  return { selected, matching, requested, allowed, capped: selected.length < requested, held };
}
