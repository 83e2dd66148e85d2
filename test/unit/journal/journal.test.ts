/**
 * The journal layout, from hand-made inputs: Chaos Toolkit's fields (status, deviated, steady_states, run, rollbacks)
 * filled from the phase results, the event log and the rollback stack, with ChaosDuck's own record under `chaosduck`.
 */
import { describe, expect, it } from 'vitest';
import type { ActivityRecord } from '../../../shared/journal/activity.js';
import { MAX_JOURNAL_BYTES, buildJournal, fitJournal, type JournalInput } from '../../../shared/journal/journal.js';
import type { ExperimentRecord, JournalEvent, PhaseResult, RollbackEntry } from '../../../shared/model/lifecycle.js';
import { parseExperiment } from '../../../shared/model/parse.js';

// ---- hand-made inputs ------------------------------------------------------------------------------------------------

const ID = 'exp-journal';
const at = (seconds: number) => new Date(Date.parse('2026-03-01T10:00:00.000Z') + seconds * 1000).toISOString();

const spec = parseExperiment({
  name: 'journal-check',
  description: 'kill one replica',
  chaos_type: 'pod_delete',
  target: { provider: 'memory', labels: { app: 'demo' }, selection: 'COUNT(2)' },
  parameters: { duration_seconds: 10 },
  safety: { max_blast_radius: 1 },
  probes: [{ name: 'health', type: 'http', mode: 'continuous', properties: { url: 'http://127.0.0.1:1/health' } }],
});

function record(fields: Partial<ExperimentRecord> = {}): ExperimentRecord {
  return {
    id: ID,
    spec,
    status: 'running',
    createdAt: at(-5),
    updatedAt: at(20),
    startedAt: at(0),
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:chaosduck-experiment:run-1',
    ...fields,
  };
}

function probe(name: string, ok: boolean, second: number): ActivityRecord {
  return {
    activity: { type: 'probe', name, provider: { type: 'http', url: 'http://127.0.0.1:1/health' } },
    status: 'succeeded',
    start: at(second),
    end: at(second + 0.01),
    duration: 0.01,
    output: { status: ok ? 200 : 500 },
    tolerance_met: ok,
  };
}

function action(name: string, second: number, error?: string): ActivityRecord {
  return {
    activity: { type: 'action', name, provider: { type: 'memory' } },
    status: error ? 'failed' : 'succeeded',
    start: at(second),
    end: at(second),
    duration: 0,
    ...(error ? { exception: [error] } : { output: { ok: true } }),
  };
}

const json = <T>(value: T) => value as never;

const event = (type: JournalEvent['type'], second: number, detail: Record<string, unknown>, phase?: JournalEvent['phase']): JournalEvent => ({
  experimentId: ID,
  at: at(second),
  type,
  ...(phase ? { phase } : {}),
  detail: json(detail),
});

function rollbackEntry(seq: number, state: RollbackEntry['state'], outcome?: ActivityRecord): RollbackEntry {
  return {
    seq,
    state,
    provider: 'memory',
    action: 'clear_fault',
    target: { provider: 'memory', id: `replica-${seq}`, labels: { app: 'demo' }, details: {} },
    params: { chaos_type: 'pod_delete' },
    snapshot: { faulted: false },
    createdAt: at(2),
    ...(outcome ? { outcome } : {}),
  };
}

const plan = { provider: 'memory', targets: [{ id: 'replica-1' }, { id: 'replica-2' }] };
const hypothesis = { statement: 'the service keeps answering', expectations: ['health: GET answers 200'], source: 'rules' };

const phases: PhaseResult[] = [
  { phase: 'STEADY_STATE', status: 'succeeded', start: at(0), end: at(1), detail: json({ met: true, probes: [probe('health', true, 0.5)] }) },
  { phase: 'HYPOTHESIS', status: 'succeeded', start: at(1), end: at(1), detail: json(hypothesis) },
  { phase: 'INJECT', status: 'succeeded', start: at(2), end: at(2), detail: json({ plan, actions: [] }) },
  {
    phase: 'OBSERVE',
    status: 'succeeded',
    start: at(3),
    end: at(14),
    detail: json({ ticks: 2, failedTicks: 1, deviated: true, after: { met: true, probes: [probe('health', true, 13)] } }),
  },
  { phase: 'ROLLBACK', status: 'failed', start: at(15), end: at(16), detail: json({ steps: [] }) },
];

const events: JournalEvent[] = [
  event('experiment.started', 0, { mode: 'run' }),
  event('probe.result', 0.5, { when: 'before', record: probe('health', true, 0.5) }, 'STEADY_STATE'),
  event('fault.applied', 2, { target: 'replica-1', rollbackSeq: 1, record: action('pod_delete replica-1', 2) }, 'INJECT'),
  event('fault.applied', 2, { target: 'replica-2', rollbackSeq: 2, record: action('pod_delete replica-2', 2) }, 'INJECT'),
  event('probe.result', 3, { when: 'during', tick: 1, record: probe('health', true, 3) }, 'OBSERVE'),
  event('probe.result', 3, { when: 'during', tick: 1, record: probe('latency', true, 3) }, 'OBSERVE'),
  event('probe.result', 8, { when: 'during', tick: 2, record: probe('health', false, 8) }, 'OBSERVE'),
  event('probe.result', 8, { when: 'during', tick: 2, record: probe('latency', true, 8) }, 'OBSERVE'),
  event('probe.result', 13, { when: 'after', record: probe('health', true, 13) }, 'OBSERVE'),
  event('rollback.step', 15, { seq: 2, state: 'done' }, 'ROLLBACK'),
];

/** Newest first, as ROLLBACK popped it: #3 never ran, #2 failed, #1 was undone. */
const stack: RollbackEntry[] = [
  rollbackEntry(3, 'pending'),
  rollbackEntry(2, 'failed', action('rollback clear_fault replica-2', 15, 'Error: cannot restore replica-2')),
  rollbackEntry(1, 'done', action('rollback clear_fault replica-1', 15)),
];

const input = (fields: Partial<JournalInput> = {}): JournalInput => ({
  record: record(),
  status: 'failed',
  reason: 'rollback_step_failed',
  deviated: true,
  phases,
  events,
  stack,
  end: at(20),
  ...fields,
});

// ---- the layout ------------------------------------------------------------------------------------------------------

describe('buildJournal', () => {
  it('lays out the Chaos Toolkit header from the record and the spec', () => {
    const journal = buildJournal(input());

    expect(journal).toMatchObject({
      'chaoslib-version': null,
      platform: `${process.platform} ${process.arch}`,
      node: process.version,
      experiment: { title: 'journal-check', description: 'kill one replica', name: 'journal-check', chaos_type: 'pod_delete' },
      start: at(0),
      end: at(20),
      duration: 20,
      status: 'failed',
      deviated: true,
    });
  });

  it('lists the experiment\'s probes without the secrets they use: URL credentials, header values, bodies, env values', () => {
    const secret = parseExperiment({
      ...spec,
      probes: [
        { name: 'api', type: 'http', properties: { url: 'https://ci-user:s3cret-pw@shop.example/health', headers: { Authorization: 'Bearer tok-123' }, body: '{"key":"body-secret"}' } },
        { name: 'errors', type: 'prometheus', weight: 2, properties: { url: 'http://prom-user:prom-pw@prometheus:9090', query: 'up', headers: { 'X-Scope-OrgID': 'tenant-secret' }, tolerance: { equals: 1 } } },
        { name: 'script', type: 'cmd', mode: 'sot', properties: { command: ['./check.sh'], env: { TOKEN: 'env-secret' } } },
      ],
    });
    const journal = buildJournal(input({ record: record({ spec: secret }) }));

    const text = JSON.stringify(journal);
    for (const value of ['s3cret-pw', 'ci-user', 'tok-123', 'body-secret', 'prom-pw', 'tenant-secret', 'env-secret']) expect(text).not.toContain(value);
    expect((journal.experiment as { probes: unknown[] }).probes).toEqual([
      {
        name: 'api',
        type: 'http',
        mode: 'continuous',
        properties: { url: 'https://***:***@shop.example/health', method: 'GET', headers: { Authorization: '***' }, body: '***', timeout_ms: 5000, expected_status: 200 },
      },
      expect.objectContaining({
        name: 'errors',
        type: 'prometheus',
        weight: 2,
        properties: expect.objectContaining({ url: 'http://***:***@prometheus:9090/', query: 'up', headers: { 'X-Scope-OrgID': '***' }, tolerance: { equals: 1 } }),
      }),
      { name: 'script', type: 'cmd', mode: 'sot', properties: { command: ['./check.sh'], env: { TOKEN: '***' }, timeout_ms: 10_000, expected_exit_code: 0 } },
    ]);
  });

  it('writes the journal of a stored probe it cannot read, keeping none of its properties', () => {
    const odd = { ...spec, probes: [{ name: 'later', type: 'graphite', mode: 'continuous', properties: { url: 'http://u:pw@g' } }] } as unknown as typeof spec;
    const journal = buildJournal(input({ record: record({ spec: odd }) }));

    expect((journal.experiment as { probes: unknown[] }).probes).toEqual([{ name: 'later', type: 'graphite', mode: 'continuous', properties: '***' }]);
  });

  it('takes the steady state before from STEADY_STATE and after from OBSERVE', () => {
    const journal = buildJournal(input());

    expect(journal.steady_states).toMatchObject({
      before: { steady_state_met: true, probes: [probe('health', true, 0.5)] },
      after: { steady_state_met: true, probes: [probe('health', true, 13)] },
    });
  });

  it('groups the probes during the fault by tick, from the events', () => {
    const { during } = buildJournal(input()).steady_states as { during: unknown[] };

    expect(during).toEqual([
      { tick: 1, steady_state_met: true, probes: [probe('health', true, 3), probe('latency', true, 3)] },
      { tick: 2, steady_state_met: false, probes: [probe('health', false, 8), probe('latency', true, 8)] },
    ]);
  });

  it('counts a probe that failed outright as a tick out of steady state', () => {
    const crashed: ActivityRecord = { ...probe('health', true, 3), status: 'failed', exception: ['TypeError: fetch failed'] };
    delete crashed.tolerance_met;
    const journal = buildJournal(input({ events: [event('probe.result', 3, { when: 'during', tick: 1, record: crashed }, 'OBSERVE')] }));

    expect((journal.steady_states as { during: { steady_state_met: boolean }[] }).during).toMatchObject([{ tick: 1, steady_state_met: false }]);
  });

  it('lists the faults applied as run[] and the reverts that ran as rollbacks[], newest first', () => {
    const journal = buildJournal(input());

    expect(journal.run).toEqual([action('pod_delete replica-1', 2), action('pod_delete replica-2', 2)]);
    expect(journal.rollbacks).toEqual([
      action('rollback clear_fault replica-2', 15, 'Error: cannot restore replica-2'),
      action('rollback clear_fault replica-1', 15),
    ]);
  });

  it("keeps ChaosDuck's own record beside it", () => {
    const journal = buildJournal(input());

    expect(journal.chaosduck).toEqual({
      id: ID,
      status: 'failed',
      reason: 'rollback_step_failed',
      error: null,
      execution_arn: 'arn:aws:states:us-east-1:000000000000:execution:chaosduck-experiment:run-1',
      phases,
      hypothesis,
      plan,
      observed: {},
      rollback_stack: [
        { seq: 3, action: 'clear_fault', target: 'replica-3', state: 'pending', snapshot: { faulted: false } },
        { seq: 2, action: 'clear_fault', target: 'replica-2', state: 'failed', snapshot: { faulted: false } },
        { seq: 1, action: 'clear_fault', target: 'replica-1', state: 'done', snapshot: { faulted: false } },
      ],
      failed_rollbacks: [
        { seq: 3, action: 'clear_fault', target: 'replica-3', state: 'pending', error: 'rollback did not run' },
        { seq: 2, action: 'clear_fault', target: 'replica-2', state: 'failed', error: 'Error: cannot restore replica-2' },
      ],
    });
  });

  it('says what the run ended on, when it ended on an error', () => {
    const journal = buildJournal(input({ error: 'ProviderUnavailableError: no Kubernetes cluster configured' }));

    expect((journal.chaosduck as { error: string }).error).toBe('ProviderUnavailableError: no Kubernetes cluster configured');
  });

  it('leaves out what a run that stopped at the steady state never had', () => {
    const journal = buildJournal(
      input({
        record: record({ executionArn: undefined }),
        status: 'aborted',
        reason: 'steady_state_not_met',
        deviated: false,
        phases: [{ phase: 'STEADY_STATE', status: 'failed', start: at(0), end: at(1), detail: json({ met: false, probes: [probe('health', false, 0.5)] }) }],
        events: [event('probe.result', 0.5, { when: 'before', record: probe('health', false, 0.5) }, 'STEADY_STATE')],
        stack: [],
        end: at(1),
      }),
    );

    expect(journal).toMatchObject({
      status: 'aborted',
      deviated: false,
      duration: 1,
      steady_states: { before: { steady_state_met: false, probes: [probe('health', false, 0.5)] }, after: null, during: [] },
      run: [],
      rollbacks: [],
      chaosduck: { execution_arn: null, hypothesis: null, plan: null, observed: {}, rollback_stack: [], failed_rollbacks: [] },
    });
  });

  it('has no steady state at all for a rollback-only run, and starts from the creation time when never started', () => {
    const journal = buildJournal(
      input({ record: record({ startedAt: undefined }), status: 'rolled_back', reason: 'recovered_after_crash', phases: [], events: [], stack: [stack[2] as RollbackEntry] }),
    );

    expect(journal).toMatchObject({ start: at(-5), duration: 25, steady_states: { before: null, after: null, during: [] }, chaosduck: { failed_rollbacks: [] } });
  });

  it('is plain JSON', () => {
    const journal = buildJournal(input());

    expect(JSON.parse(JSON.stringify(journal))).toStrictEqual(journal);
  });
});

describe('fitJournal', () => {
  // A day of observation probed every second: far more probe results than one stored item holds.
  const longRun = (ticks: number) =>
    Array.from({ length: ticks }, (_, i) => event('probe.result', 3 + i, { when: 'during', tick: i + 1, record: probe('health', i % 500 !== 7, 3 + i) }, 'OBSERVE'));

  it('leaves a journal that fits as it is', () => {
    const journal = buildJournal(input());
    expect(fitJournal(journal)).toBe(journal);
  });

  it('keeps every failed tick and an even sample of the others, says so, and fits the store', () => {
    const journal = buildJournal(input({ events: longRun(20_000) }));

    const fitted = fitJournal(journal);

    const during = (fitted.steady_states as { during: { tick: number; steady_state_met: boolean }[] }).during;
    expect(Buffer.byteLength(JSON.stringify(journal))).toBeGreaterThan(MAX_JOURNAL_BYTES);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(MAX_JOURNAL_BYTES);
    expect(during.filter((tick) => !tick.steady_state_met).map((tick) => tick.tick)).toEqual(Array.from({ length: 40 }, (_, i) => i * 500 + 8));
    expect(during.length).toBeGreaterThan(100);
    expect((fitted.chaosduck as Record<string, unknown>).journal_compacted).toMatchObject({ ticks_total: 20_000, ticks_kept: during.length });
  });
});
