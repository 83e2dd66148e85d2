/**
 * FIS-style target selection (ALL, COUNT(n), PERCENT(n)) under the blast-radius cap, with injected randomness.
 */
import { describe, expect, it } from 'vitest';
import { BlastRadiusExceededError, NoTargetsError } from '../../../shared/errors.js';
import { parseSelection, selectTargets, type SelectionPlan } from '../../../shared/model/selection.js';

// ---- helpers ---------------------------------------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so "random" picks are repeatable. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pods(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `pod-${i}`);
}

function thrown(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

function expectWellFormed<T>(plan: SelectionPlan<T>, candidates: readonly T[]): void {
  expect(new Set(plan.selected).size).toBe(plan.selected.length);
  for (const target of plan.selected) expect(candidates).toContain(target);
}

// ---- parseSelection --------------------------------------------------------------------------------------------------

describe('parseSelection', () => {
  it.each([
    ['ALL', { mode: 'ALL' }],
    ['COUNT(1)', { mode: 'COUNT', count: 1 }],
    ['COUNT(42)', { mode: 'COUNT', count: 42 }],
    ['PERCENT(25)', { mode: 'PERCENT', percent: 25 }],
    ['PERCENT(12.5)', { mode: 'PERCENT', percent: 12.5 }],
  ])('reads %j', (text, expected) => {
    // Act
    const selection = parseSelection(text);

    // Assess
    expect(selection).toEqual(expected);
  });

  it.each(['SOME', 'all', 'COUNT(1) ', ' ALL', 'COUNT()', 'COUNT(1.5)', 'PERCENT(-5)', 'PERCENT(.5)', ''])(
    'throws a TypeError for %j',
    (text) => {
      // Act
      const error = thrown(() => parseSelection(text));

      // Assess
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain(text);
    },
  );
});

// ---- selectTargets ---------------------------------------------------------------------------------------------------

describe('selectTargets: modes', () => {
  it('ALL picks every candidate when the cap allows it', () => {
    // Prepare
    const candidates = pods(5);

    // Act
    const plan = selectTargets(candidates, 'ALL', 1, seeded(1));

    // Assess
    expect(plan).toMatchObject({ matching: 5, requested: 5, allowed: 5, capped: false });
    expect([...plan.selected].sort()).toEqual(candidates);
  });

  it('COUNT(n) picks n', () => {
    // Prepare
    const candidates = pods(5);

    // Act
    const plan = selectTargets(candidates, 'COUNT(2)', 1, seeded(2));

    // Assess
    expect(plan).toMatchObject({ matching: 5, requested: 2, allowed: 5, capped: false });
    expect(plan.selected).toHaveLength(2);
    expectWellFormed(plan, candidates);
  });

  it('COUNT(n) with n above the matching count picks every candidate, and that is not capping', () => {
    // Prepare
    const candidates = pods(4);

    // Act
    const plan = selectTargets(candidates, 'COUNT(10)', 1, seeded(3));

    // Assess
    expect(plan).toMatchObject({ matching: 4, requested: 4, allowed: 4, capped: false });
    expect([...plan.selected].sort()).toEqual(candidates);
  });

  it.each([
    // [percent, matching, expected]
    [50, 5, 3], // 2.5 rounds up
    [25, 10, 3], // 2.5 rounds up
    [29, 50, 15], // exactly 14.5; (29 / 100) * 50 would give 14.4999… and round down
    [33, 10, 3], // 3.3 rounds down
    [66, 10, 7], // 6.6 rounds up
    [100, 7, 7],
    [12.5, 16, 2],
    [10, 4, 1], // 0.4 rounds to 0, but at least one is picked
    [1, 10, 1], // 0.1: at least one
    [0.5, 3, 1],
  ])('PERCENT(%d) of %d requests %d', (percent, matching, expected) => {
    // Prepare
    const candidates = pods(matching);

    // Act
    const plan = selectTargets(candidates, `PERCENT(${percent})`, 1, seeded(4));

    // Assess
    expect(plan.requested).toBe(expected);
    expect(plan.selected).toHaveLength(expected);
    expect(plan.capped).toBe(false);
    expectWellFormed(plan, candidates);
  });

  it('uses Math.random when no generator is given', () => {
    // Prepare
    const candidates = pods(6);

    // Act
    const plan = selectTargets(candidates, 'COUNT(3)', 1);

    // Assess
    expect(plan.selected).toHaveLength(3);
    expectWellFormed(plan, candidates);
  });
});

describe('selectTargets: blast-radius cap', () => {
  it('caps ALL of 10 at 3 under max_blast_radius 0.3 (not 2 through floating-point error)', () => {
    // Prepare
    const candidates = pods(10);

    // Act
    const plan = selectTargets(candidates, 'ALL', 0.3, seeded(5));

    // Assess
    expect(plan).toMatchObject({ matching: 10, requested: 10, allowed: 3, capped: true });
    expect(plan.selected).toHaveLength(3);
    expectWellFormed(plan, candidates);
  });

  it.each([
    // 0.29 * 100 is 28.999999999999996 and 0.57 * 100 is 56.99999999999999 in floating point.
    [0.29, 100, 29],
    [0.57, 100, 57],
    [0.7, 10, 7],
    [0.1, 10, 1],
    [0.5, 5, 2],
    [1, 9, 9],
  ])('max_blast_radius %d of %d allows %d', (radius, matching, allowed) => {
    // Act
    const plan = selectTargets(pods(matching), 'ALL', radius, seeded(6));

    // Assess
    expect(plan.allowed).toBe(allowed);
    expect(plan.selected).toHaveLength(allowed);
    expect(plan.capped).toBe(allowed < matching);
  });

  it('caps COUNT and PERCENT the same way', () => {
    // Act
    const count = selectTargets(pods(10), 'COUNT(5)', 0.3, seeded(7));
    const percent = selectTargets(pods(10), 'PERCENT(80)', 0.3, seeded(7));

    // Assess
    expect(count).toMatchObject({ requested: 5, allowed: 3, capped: true });
    expect(count.selected).toHaveLength(3);
    expect(percent).toMatchObject({ requested: 8, allowed: 3, capped: true });
    expect(percent.selected).toHaveLength(3);
  });

  it('does not flag a request that fits exactly under the cap', () => {
    // Act
    const plan = selectTargets(pods(10), 'COUNT(3)', 0.3, seeded(8));

    // Assess
    expect(plan).toMatchObject({ requested: 3, allowed: 3, capped: false });
    expect(plan.selected).toHaveLength(3);
  });

  it('refuses with BlastRadiusExceededError when the cap allows no target, saying how high to raise it', () => {
    // Prepare: the default 0.3 against a 3-replica deployment allows 0.9 → 0 pods.
    const candidates = pods(3);

    // Act
    const error = thrown(() => selectTargets(candidates, 'COUNT(1)', 0.3, seeded(9)));

    // Assess
    expect(error).toBeInstanceOf(BlastRadiusExceededError);
    expect((error as Error).message).toBe(
      'max_blast_radius 0.3 of 3 matching target(s) allows none; raise safety.max_blast_radius to at least 0.34',
    );
  });

  it('names safety.max_blast_radius in the refusal\'s fields, with the least value that allows one and all requested', () => {
    const one = thrown(() => selectTargets(pods(3), 'COUNT(1)', 0.3, seeded(9))) as BlastRadiusExceededError;
    expect(one.fields).toEqual([{ field: 'safety.max_blast_radius', message: '0.3 of 3 matching target(s) allows none: 0.34 is the least that allows one' }]);
    const two = thrown(() => selectTargets(pods(3), 'COUNT(2)', 0.3, seeded(9))) as BlastRadiusExceededError;
    expect(two.fields).toEqual([{ field: 'safety.max_blast_radius', message: '0.3 of 3 matching target(s) allows none: 0.34 is the least that allows one, 0.67 all 2 requested' }]);
    // What it names is enough: the same selection under it is allowed, and hits as many as asked.
    expect(selectTargets(pods(3), 'COUNT(2)', 0.67, seeded(9)).selected).toHaveLength(2);
    expect(selectTargets(pods(3), 'COUNT(1)', 0.34, seeded(9)).selected).toHaveLength(1);
  });

  it('suggests a max_blast_radius that really allows one target, for 1 to 400 matching targets', () => {
    for (let matching = 1; matching <= 400; matching++) {
      // Prepare: a radius just under 1/matching allows none.
      const candidates = pods(matching);
      const tooSmall = (1 / matching) * 0.99;
      const error = thrown(() => selectTargets(candidates, 'COUNT(1)', tooSmall, seeded(matching)));
      expect(error, `${matching} targets`).toBeInstanceOf(BlastRadiusExceededError);
      const suggested = Number(/at least (\d+(?:\.\d+)?)$/.exec((error as Error).message)?.[1]);

      // Act
      const plan = selectTargets(candidates, 'COUNT(1)', suggested, seeded(matching));

      // Assess
      expect(suggested, `${matching} targets`).toBeGreaterThan(0);
      expect(suggested, `${matching} targets`).toBeLessThanOrEqual(1);
      expect(plan.allowed, `${matching} targets: suggested ${suggested}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('throws NoTargetsError when nothing matches', () => {
    // Act
    const error = thrown(() => selectTargets([], 'ALL', 1, seeded(10)));

    // Assess
    expect(error).toBeInstanceOf(NoTargetsError);
    expect((error as Error).message).toMatch(/^no target matches the target selector/);
  });

  it('reports no targets before judging the cap or the selection text', () => {
    // Act
    const error = thrown(() => selectTargets([], 'not a selection', 0.01, seeded(11)));

    // Assess
    expect(error).toBeInstanceOf(NoTargetsError);
  });

  it('throws a TypeError for a selection text the schema would have rejected', () => {
    // Act
    const error = thrown(() => selectTargets(pods(3), 'SOME', 1, seeded(12)));

    // Assess
    expect(error).toBeInstanceOf(TypeError);
  });
});

describe('selectTargets: randomness', () => {
  it('gives the same pick for the same seed', () => {
    // Prepare
    const candidates = pods(20);

    // Act
    const first = selectTargets(candidates, 'COUNT(5)', 1, seeded(42));
    const second = selectTargets(candidates, 'COUNT(5)', 1, seeded(42));

    // Assess
    expect(second.selected).toEqual(first.selected);
  });

  it('gives different picks for different seeds', () => {
    // Prepare
    const candidates = pods(20);

    // Act
    const picks = new Set(
      Array.from({ length: 10 }, (_, seed) => selectTargets(candidates, 'COUNT(5)', 1, seeded(seed)).selected.join(',')),
    );

    // Assess
    expect(picks.size).toBeGreaterThan(5);
  });

  it('never picks a target twice or one that was not a candidate', () => {
    // Prepare
    const candidates = pods(12);

    for (let seed = 0; seed < 200; seed++) {
      // Act
      const plan = selectTargets(candidates, 'PERCENT(50)', 1, seeded(seed));

      // Assess
      expect(plan.selected).toHaveLength(6);
      expectWellFormed(plan, candidates);
    }
  });

  it('stays in range when the generator returns values next to 0 and 1', () => {
    // Prepare
    const candidates = pods(8);

    // Act
    const low = selectTargets(candidates, 'ALL', 1, () => 0);
    const high = selectTargets(candidates, 'ALL', 1, () => 0.999_999_999);

    // Assess
    expect([...low.selected].sort()).toEqual(candidates);
    expect([...high.selected].sort()).toEqual(candidates);
  });

  it('gives every candidate a fair chance under COUNT(1)', () => {
    // Prepare
    const candidates = pods(4);
    const random = seeded(2024);
    const hits = new Map(candidates.map((c) => [c, 0]));
    const runs = 8000;

    // Act
    for (let run = 0; run < runs; run++) {
      const [picked] = selectTargets(candidates, 'COUNT(1)', 1, random).selected;
      hits.set(picked as string, (hits.get(picked as string) ?? 0) + 1);
    }

    // Assess: each is expected 2000 times; a biased shuffle lands far outside ±10 %.
    for (const candidate of candidates) {
      expect(hits.get(candidate)).toBeGreaterThan(1800);
      expect(hits.get(candidate)).toBeLessThan(2200);
    }
  });

  it('leaves the candidate list as it was', () => {
    // Prepare
    const candidates = pods(10);
    const before = [...candidates];

    // Act
    selectTargets(candidates, 'COUNT(4)', 1, seeded(13));

    // Assess
    expect(candidates).toEqual(before);
  });

  it('works with object targets and keeps their identity', () => {
    // Prepare
    const candidates = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];

    // Act
    const plan = selectTargets(candidates, 'ALL', 1, seeded(14));

    // Assess
    expect(plan.selected).toHaveLength(3);
    for (const target of plan.selected) expect(candidates.includes(target)).toBe(true);
  });
});
