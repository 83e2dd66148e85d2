/**
 * The guardrails on their own: the production guard, the timeout cap, the driver lookup, and the injection plan, which
 * must refuse by name and change nothing (no store write, no fault, no event).
 */
import { describe, expect, it } from 'vitest';
import {
  BlastRadiusExceededError,
  EmergencyStopActiveError,
  ProductionGuardError,
  ConfigurationError,
  TargetLeasedError,
  TimeoutCapExceededError,
  ValidationError,
} from '../../../shared/errors.js';
import { guardrailsFromEnv } from '../../../shared/lifecycle/config.js';
import type { FaultDriver, TargetRef } from '../../../shared/faults/driver.js';
import { DEFAULT_GUARDRAILS, type GuardrailConfig, type LifecycleDeps } from '../../../shared/lifecycle/deps.js';
import {
  DEFAULT_PRODUCTION_PATTERN,
  checkProductionGuard,
  checkTimeoutCap,
  driverFor,
  planInjection,
  productionWord,
  staticGuardIssues,
} from '../../../shared/lifecycle/guardrails.js';
import type { FaultSpec } from '../../../shared/model/experiment.js';
import { parseExperiment } from '../../../shared/model/parse.js';
import type { EmergencyStop, ExperimentStore, Lease } from '../../../shared/store/store.js';
import { MemoryDriver } from '../../support/memory-driver.js';

// ---- helpers ---------------------------------------------------------------------------------------------------------

function spec(fields: Record<string, unknown> = {}, safety: Record<string, unknown> = {}): FaultSpec {
  return parseExperiment({
    name: 'guardrails',
    chaos_type: 'pod_delete',
    target: { provider: 'memory', labels: { app: 'demo' }, selection: 'COUNT(1)' },
    parameters: { duration_seconds: 10 },
    ...fields,
    safety: { timeout_seconds: 60, max_blast_radius: 1, ...safety },
  });
}

const target = (id: string, labels: Record<string, string> = {}): TargetRef => ({ provider: 'memory', id, labels, details: {} });
const guardrails = (fields: Partial<GuardrailConfig> = {}) => ({ guardrails: { ...DEFAULT_GUARDRAILS, ...fields } });

function thrown(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/**
 * A store that answers only the reads planning makes (the emergency stop, the targets' leases) and records every other
 * method touched, so a test can tell that planning wrote nothing.
 */
function readOnlyStore(stop: EmergencyStop = { active: false }, leases = new Map<string, Lease>()): { store: ExperimentStore; touched: string[] } {
  const touched: string[] = [];
  const store = new Proxy({} as ExperimentStore, {
    get(_target, property) {
      if (property === 'getEmergencyStop') return async () => stop;
      if (property === 'liveLeases') return async (targets: string[]) => new Map(targets.flatMap((t) => (leases.has(t) ? [[t, leases.get(t)]] : [])));
      if (property === 'then') return undefined;
      touched.push(String(property));
      return async () => {
        throw new Error(`store.${String(property)} must not be called while planning`);
      };
    },
  });
  return { store, touched };
}

function deps(driver: FaultDriver, stop?: EmergencyStop, config: Partial<GuardrailConfig> = {}, leases?: Map<string, Lease>) {
  const { store, touched } = readOnlyStore(stop, leases);
  const published: unknown[] = [];
  const lifecycleDeps: LifecycleDeps = {
    store,
    drivers: new Map([[driver.provider, driver]]),
    events: { publish: async (events) => void published.push(...events) },
    ...guardrails(config),
    runtime: 'local',
    runtimeId: 'local-test',
    clock: () => Date.parse('2026-01-01T00:00:00Z'),
    // Never swaps: targets are selected in id order.
    random: () => 0.999_999,
  };
  return { deps: lifecycleDeps, touched, published };
}

const signal = new AbortController().signal;

// ---- checkProductionGuard --------------------------------------------------------------------------------------------

describe('checkProductionGuard', () => {
  it('lets ordinary targets through', () => {
    expect(() => checkProductionGuard(spec(), [target('replica-1', { app: 'demo', env: 'staging' })], guardrails())).not.toThrow();
  });

  it.each([
    ['a production namespace', spec({ target: { provider: 'memory', namespace: 'production', labels: { app: 'demo' } } }), target('replica-1'), 'namespace production'],
    ['a prod namespace segment', spec({ target: { provider: 'memory', namespace: 'shop-prod', labels: { app: 'demo' } } }), target('replica-1'), 'namespace shop-prod'],
    ['a production-looking id', spec(), target('prod-db-1'), 'target prod-db-1'],
    ['a production label', spec(), target('replica-1', { app: 'demo', env: 'Production' }), 'label env=Production of replica-1'],
  ])('refuses %s', (_what, experiment, ref, marker) => {
    const error = thrown(() => checkProductionGuard(experiment, [ref], guardrails()));
    expect(error).toBeInstanceOf(ProductionGuardError);
    expect(error.message).toContain(marker);
    expect(error.message).toContain('require_confirmation: true');
  });

  it.each(['product-catalog', 'reproduce', 'delivery', 'liveness-check', 'staging', 'nonprod'])('does not take the word inside %s for production', (id) => {
    expect(() => checkProductionGuard(spec(), [target(id, { tier: id })], guardrails())).not.toThrow();
  });

  it('names each marker once, across several targets', () => {
    const targets = [target('replica-1', { env: 'prod' }), target('replica-2', { env: 'prod' }), target('prod-3')];
    const error = thrown(() => checkProductionGuard(spec(), targets, guardrails()));
    expect(error.message).toContain('label env=prod of replica-1 ("prod"), label env=prod of replica-2 ("prod"), target prod-3 ("prod")');
  });

  it('lets production targets through once confirmed', () => {
    const confirmed = spec({ target: { provider: 'memory', namespace: 'production', labels: { app: 'demo' } } }, { require_confirmation: true });
    expect(() => checkProductionGuard(confirmed, [target('prod-db-1', { env: 'production' })], guardrails())).not.toThrow();
  });

  it('follows the configured pattern', () => {
    const config = guardrails({ productionPattern: /live/i });
    expect(() => checkProductionGuard(spec(), [target('replica-1', { env: 'production' })], config)).not.toThrow();
    expect(thrown(() => checkProductionGuard(spec(), [target('replica-1', { env: 'LIVE' })], config))).toBeInstanceOf(ProductionGuardError);
  });
});

// ---- the production rule ---------------------------------------------------------------------------------------------

describe('the production rule', () => {
  it.each([
    ['prod', 'prod'],
    ['production', 'production'],
    ['prd', 'prd'],
    ['live', 'live'],
    ['PROD', 'PROD'],
    ['prodeu', 'prod'],
    ['euprod', 'prod'],
    ['prodapi-7f9c', 'prod'],
    ['preprod', 'prod'],
    ['pre-prod', 'prod'],
    ['shopProd', 'Prod'],
    ['ProdShop', 'Prod'],
    ['prod-cluster', 'prod'],
    ['eu-prd-1', 'prd'],
    ['golive', 'live'],
    ['live-web', 'live'],
    ['prod2', 'prod'],
    ['preproduction', 'production'],
    ['euproduction', 'production'],
    ['olive', 'live'],
  ])('finds production in %s (the word "%s")', (value, word) => {
    expect(productionWord(value, DEFAULT_PRODUCTION_PATTERN)).toBe(word);
  });

  it.each(['product', 'products-api', 'produce', 'prodigy', 'reproduce', 'delivery', 'liveness', 'alive', 'keepalive', 'stay-alive', 'nonprod', 'non-prod', 'NonProduction', 'staging', 'default', 'shop'])('leaves %s alone', (value) => {
    expect(productionWord(value, DEFAULT_PRODUCTION_PATTERN)).toBeUndefined();
  });

  it('names every field as written that looks like production, and the word, unless confirmed', () => {
    const fields = {
      name: 'euprod-latency',
      target: { provider: 'memory', cluster: 'prod-cluster', namespace: 'shop-prd', labels: { app: 'web', env: 'live' }, pod_names: ['web-prod-0'] },
    };

    const issues = staticGuardIssues(spec(fields), DEFAULT_GUARDRAILS);
    const confirmed = staticGuardIssues(spec(fields, { require_confirmation: true }), DEFAULT_GUARDRAILS);

    expect(issues.map((i) => i.field)).toEqual(['name', 'target.namespace', 'target.labels.env', 'target.pod_names[0]', 'target.cluster']);
    expect(issues[0]?.message).toMatch(/^"euprod-latency" looks like production \("prod" matches the production rule .*\); set safety\.require_confirmation: true/);
    expect(issues[2]?.message).toContain('"live" looks like production ("live"');
    expect(confirmed).toEqual([]);
  });

  it('refuses kube-system even when confirmed, and a timeout above the cap, naming the fields', () => {
    const experiment = spec({ target: { provider: 'memory', namespace: 'kube-system', labels: { app: 'dns' } } }, { require_confirmation: true, timeout_seconds: 600 });

    expect(staticGuardIssues(experiment, { ...DEFAULT_GUARDRAILS, maxTimeoutSeconds: 300 })).toEqual([
      { field: 'safety.timeout_seconds', message: "600 is above this control plane's cap of 300s (MAX_TIMEOUT_SECONDS)" },
      { field: 'target.namespace', message: expect.stringContaining('namespace kube-system is protected') },
    ]);
  });

  it('is configured by PRODUCTION_PATTERN, and a malformed setting stops start-up naming the variable', () => {
    const config = guardrailsFromEnv({ PRODUCTION_PATTERN: '^(blue|green)$', MAX_TIMEOUT_SECONDS: '900' });

    expect(config.maxTimeoutSeconds).toBe(900);
    expect(productionWord('BLUE', config.productionPattern)).toBe('BLUE');
    expect(productionWord('prod', config.productionPattern)).toBeUndefined();
    expect(guardrailsFromEnv({})).toEqual(DEFAULT_GUARDRAILS);
    expect(guardrailsFromEnv({ MAX_TIMEOUT_SECONDS: '' })).toEqual(DEFAULT_GUARDRAILS);
    for (const [env, message] of [
      [{ MAX_TIMEOUT_SECONDS: 'abc' }, 'MAX_TIMEOUT_SECONDS="abc" is not a whole number'],
      [{ MAX_TIMEOUT_SECONDS: '12.5' }, 'MAX_TIMEOUT_SECONDS="12.5" is not a whole number'],
      [{ MAX_TIMEOUT_SECONDS: '0' }, 'MAX_TIMEOUT_SECONDS=0 is out of range (expected 1 to 86400)'],
      [{ PRODUCTION_PATTERN: '(unclosed' }, 'PRODUCTION_PATTERN="(unclosed" is not a regular expression'],
    ] as const) {
      const error = thrown(() => guardrailsFromEnv(env));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.message).toContain(message);
    }
  });
});

// ---- checkTimeoutCap -------------------------------------------------------------------------------------------------

describe('checkTimeoutCap', () => {
  it('accepts a timeout at the cap', () => {
    expect(() => checkTimeoutCap(spec({}, { timeout_seconds: 3600 }), guardrails())).not.toThrow();
  });

  it('refuses a timeout above the default cap', () => {
    const error = thrown(() => checkTimeoutCap(spec({}, { timeout_seconds: 3601 }), guardrails()));
    expect(error).toBeInstanceOf(TimeoutCapExceededError);
    expect(error.message).toBe("safety.timeout_seconds 3601 is above this control plane's cap of 3600s");
  });

  it('refuses against a configured cap', () => {
    expect(thrown(() => checkTimeoutCap(spec({}, { timeout_seconds: 61 }), guardrails({ maxTimeoutSeconds: 60 })))).toBeInstanceOf(TimeoutCapExceededError);
    expect(() => checkTimeoutCap(spec({}, { timeout_seconds: 60 }), guardrails({ maxTimeoutSeconds: 60 }))).not.toThrow();
  });
});

// ---- driverFor -------------------------------------------------------------------------------------------------------

describe('driverFor', () => {
  it('finds the driver for the target provider', () => {
    const driver = new MemoryDriver();
    expect(driverFor(spec(), { drivers: new Map([['memory', driver]]) })).toBe(driver);
  });

  it('refuses a provider with no driver, naming the field and the providers there are', () => {
    const error = thrown(() => driverFor(spec(), { drivers: new Map([['sandbox', new MemoryDriver({ provider: 'sandbox' })]]) }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([{ field: 'target.provider', message: '"memory" is not available in this runtime (available: sandbox)' }]);
  });

  it('says "none" when the runtime has no driver at all', () => {
    expect(thrown(() => driverFor(spec(), { drivers: new Map() })).message).toContain('(available: none)');
  });

  it('refuses a chaos type the driver cannot apply', () => {
    const ec2 = parseExperiment({ name: 'ec2', chaos_type: 'ec2_stop', target: { instance_ids: ['i-0123456789abcdef0'] }, parameters: { duration_seconds: 10 } });
    const error = thrown(() => driverFor(ec2, { drivers: new Map([['aws', new MemoryDriver({ provider: 'aws' })]]) }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([{ field: 'chaos_type', message: expect.stringContaining('target.provider "aws" cannot apply ec2_stop') }]);
  });
});

// ---- planInjection ---------------------------------------------------------------------------------------------------

describe('planInjection', () => {
  it('plans every selected target with its rollback, and changes nothing', async () => {
    // Prepare
    const driver = new MemoryDriver({ targets: 4 });
    const { deps: lifecycleDeps, touched, published } = deps(driver);

    // Act
    const plan = await planInjection(spec({ target: { provider: 'memory', labels: { app: 'demo' }, selection: 'COUNT(3)' } }, { max_blast_radius: 0.5 }), lifecycleDeps, signal);

    // Assess: capped to half of four, each step prepared with its snapshot…
    expect(plan).toMatchObject({ driver, matching: 4, requested: 3, allowed: 2, capped: true, fault: { chaos_type: 'pod_delete', parameters: { duration_seconds: 10 } } });
    expect(plan.steps.map((s) => [s.target.id, s.action, s.snapshot])).toEqual([
      ['replica-1', 'clear_fault', { faulted: false }],
      ['replica-2', 'clear_fault', { faulted: false }],
    ]);
    // …and nothing written, applied or published.
    expect(touched).toEqual([]);
    expect(published).toEqual([]);
    expect(driver.calls).toEqual([]);
    expect(driver.faulted()).toEqual([]);
  });

  it('checks the emergency stop before anything else', async () => {
    const driver = new MemoryDriver();
    let resolved = 0;
    const resolve = driver.resolve.bind(driver);
    driver.resolve = async (s) => (resolved++, resolve(s));
    const { deps: lifecycleDeps, touched } = deps(driver, { active: true, since: '2026-01-01T00:00:00.000Z', reason: 'incident' });

    await expect(planInjection(spec({}, { timeout_seconds: 86_400 }), lifecycleDeps, signal)).rejects.toThrow(EmergencyStopActiveError);
    await expect(planInjection(spec(), lifecycleDeps, signal)).rejects.toThrow('emergency stop is active since 2026-01-01T00:00:00.000Z (incident)');
    expect(resolved).toBe(0);
    expect(touched).toEqual([]);
  });

  it('refuses a timeout above the cap before resolving targets', async () => {
    const driver = new MemoryDriver();
    const { deps: lifecycleDeps } = deps(driver, undefined, { maxTimeoutSeconds: 30 });
    await expect(planInjection(spec(), lifecycleDeps, signal)).rejects.toThrow(TimeoutCapExceededError);
  });

  it('refuses a selection the blast radius does not allow', async () => {
    const driver = new MemoryDriver({ targets: 3 });
    const { deps: lifecycleDeps, touched } = deps(driver);
    await expect(planInjection(spec({}, { max_blast_radius: 0.3 }), lifecycleDeps, signal)).rejects.toThrow(BlastRadiusExceededError);
    expect(touched).toEqual([]);
  });

  it('applies the production guard to the selected targets only', async () => {
    // Prepare: one production-labelled replica among three; COUNT(1) picks replica-1 first, COUNT(3) takes it too.
    const driver = new MemoryDriver({ targets: 3 });
    const prod = driver.targets.get('replica-3');
    if (prod) prod.labels = { ...prod.labels, env: 'prod' };
    const { deps: lifecycleDeps } = deps(driver);

    // Act / Assess
    await expect(planInjection(spec(), lifecycleDeps, signal)).resolves.toMatchObject({ steps: [{ target: { id: 'replica-1' } }] });
    await expect(
      planInjection(spec({ target: { provider: 'memory', labels: { app: 'demo' }, selection: 'ALL' } }, { max_blast_radius: 1 }), lifecycleDeps, signal),
    ).rejects.toThrow(/label env=prod of replica-3/);
    expect(driver.calls).toEqual([]);
  });

  it('picks among the targets no other experiment holds, and says which were passed over', async () => {
    const driver = new MemoryDriver({ targets: 3 });
    const leases = new Map([['memory:replica-1', { target: 'memory:replica-1', holder: 'exp-other', expiresAt: Date.now() + 60_000 }]]);
    const { deps: lifecycleDeps } = deps(driver, undefined, {}, leases);

    const plan = await planInjection(spec({}, { max_blast_radius: 1 }), lifecycleDeps, signal);
    const own = await planInjection(spec({}, { max_blast_radius: 1 }), lifecycleDeps, signal, 'exp-other');

    expect(plan.steps.map((s) => s.target.id)).toEqual(['replica-2']);
    expect(plan.held).toEqual([{ target: 'replica-1', holder: 'exp-other' }]);
    // The holder's own plan (INJECT of that very experiment) may use it.
    expect(own.steps.map((s) => s.target.id)).toEqual(['replica-1']);
  });

  it('does not cap targets named exactly by max_blast_radius, but refuses them when another experiment holds them', async () => {
    const driver = new MemoryDriver({ targets: 3 });
    const named = spec({ target: { provider: 'memory', pod_names: ['replica-2'], selection: 'ALL' } });
    const held = new Map([['memory:replica-2', { target: 'memory:replica-2', holder: 'exp-other', expiresAt: Date.now() + 60_000 }]]);

    const plan = await planInjection(named, deps(driver).deps, signal);
    const refused = await planInjection(named, deps(driver, undefined, {}, held).deps, signal).catch((error: unknown) => error);

    expect(plan).toMatchObject({ matching: 1, allowed: 1, capped: false, steps: [{ target: { id: 'replica-2' } }] });
    expect(refused).toBeInstanceOf(TargetLeasedError);
    expect((refused as Error).message).toContain('replica-2 by exp-other');
  });
});
