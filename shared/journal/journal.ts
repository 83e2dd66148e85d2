/**
 * The journal: laid out as the Chaos Toolkit journal is (`status`, `deviated`, `steady_states.before/after/during`,
 * `run[]`, `rollbacks[]`, each activity `{activity, status, start, end, duration, output | exception}`) so tools
 * made for that journal can read it, with ChaosDuck's own record (phases, hypothesis, plan, rollback stack) beside it
 * under `chaosduck`.
 */
import { isSettled, type ExperimentRecord, type FinalStatus, type JournalEvent, type PhaseResult, type RollbackEntry } from '../model/lifecycle.js';
import { isChaosToolkitSpec, type ChaosToolkitSpec, type FaultSpec } from '../model/experiment.js';
import { DECLARED_ROLLBACK } from '../ctk/outcome.js';
import { redactedProbe } from '../probes/redact.js';
import { asJson, type ActivityRecord, type JsonObject, type JsonValue } from './activity.js';

export interface JournalInput {
  record: ExperimentRecord;
  status: FinalStatus;
  reason: string;
  /** The error the run ended on, name and message, if any. */
  error?: string;
  deviated: boolean;
  phases: PhaseResult[];
  events: JournalEvent[];
  /** Newest first, as ROLLBACK popped it. */
  stack: RollbackEntry[];
  end: string;
  /** Keys of stored items that could not be read, and so are missing from this journal. */
  unreadable?: string[];
  /** A Chaos Toolkit experiment's status and `deviated` as `chaos run` gives them: the journal's own. */
  chaostoolkit?: { status: string; deviated: boolean };
}

const phaseDetail = (phases: PhaseResult[], name: PhaseResult['phase']) => phases.find((p) => p.phase === name)?.detail;

export function buildJournal(input: JournalInput): JsonObject {
  const { record, end } = input;
  const layout = isChaosToolkitSpec(record.spec) ? chaosToolkitJournal(input, record.spec) : faultJournal(input);
  const start = record.startedAt ?? record.createdAt;
  // In Chaos Toolkit's order of keys: where it ran, what, when, then how it went.
  return {
    'chaoslib-version': null,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    experiment: layout.experiment ?? null,
    start,
    end,
    duration: (Date.parse(end) - Date.parse(start)) / 1000,
    ...layout,
    chaosduck: chaosDuckSection(input),
  };
}

/** Chaos Toolkit's layout for a Chaos Toolkit experiment, filled from the hypothesis checks, the method's activities and the declared rollbacks. */
function chaosToolkitJournal(input: JournalInput, spec: ChaosToolkitSpec): JsonObject {
  const { phases, events, stack } = input;
  const before = phaseDetail(phases, 'STEADY_STATE');
  const checks = (when: string) => events.filter((e) => e.type === 'hypothesis.checked' && e.detail.when === when);
  const hypothesis = (e: JournalEvent) => ({ steady_state_met: e.detail.steady_state_met ?? false, probes: e.detail.probes ?? [] });
  const after = checks('after').at(-1);
  return {
    experiment: { ...spec.experiment, title: spec.name, ...(spec.settings.dry ? { dry: spec.settings.dry } : {}) },
    status: input.chaostoolkit?.status ?? input.status,
    deviated: input.chaostoolkit?.deviated ?? input.deviated,
    steady_states: {
      before: before && !before.skipped ? { steady_state_met: Boolean(before.met), probes: (before.probes ?? []) as JsonValue } : null,
      after: after ? hypothesis(after) : null,
      during: checks('during').map(hypothesis),
    },
    run: events.filter((e) => e.type === 'activity.completed').map((e) => e.detail.record as JsonValue),
    // As played: the faults' automatic rollbacks, last change first, then the declared ones, each as declared.
    rollbacks: stack
      .filter((entry) => entry.outcome)
      .map((entry) => {
        const outcome = asJson(entry.outcome as ActivityRecord);
        return entry.provider === DECLARED_ROLLBACK ? { ...outcome, activity: entry.params.activity ?? null } : outcome;
      }),
  };
}

function faultJournal(input: JournalInput): JsonObject {
  const { record, phases, events, stack } = input;
  const before = phaseDetail(phases, 'STEADY_STATE');
  const observe = phaseDetail(phases, 'OBSERVE') as { after?: { met: boolean; probes: JsonValue[] } } | undefined;
  const during = new Map<number, ActivityRecord[]>();
  for (const e of events) {
    if (e.type === 'probe.result' && e.detail.when === 'during') {
      const tick = Number(e.detail.tick);
      during.set(tick, [...(during.get(tick) ?? []), e.detail.record as unknown as ActivityRecord]);
    }
  }
  const run = events.filter((e) => e.type === 'fault.applied').map((e) => e.detail.record as JsonValue);
  const rollbacks = stack.filter((entry) => entry.outcome).map((entry) => asJson(entry.outcome as ActivityRecord));

  return {
    // The experiment as submitted, but its probes as their activity records keep them: without the secrets they use.
    experiment: {
      title: record.spec.name,
      description: record.spec.description,
      ...asJson(record.spec),
      probes: ((record.spec as FaultSpec).probes ?? []).map(redactedProbe),
    },
    status: input.status,
    deviated: input.deviated,
    steady_states: {
      before: before ? { steady_state_met: Boolean(before.met), probes: (before.probes ?? []) as JsonValue } : null,
      after: observe?.after ? { steady_state_met: observe.after.met, probes: observe.after.probes } : null,
      during: [...during.entries()].map(([tick, probes]) => ({
        tick,
        steady_state_met: probes.every((p) => p.status === 'succeeded' && p.tolerance_met !== false),
        probes: asJson(probes),
      })),
    },
    run,
    rollbacks,
  };
}

/** ChaosDuck's own record of the run, beside the Chaos Toolkit layout. */
function chaosDuckSection(input: JournalInput): JsonObject {
  const { record, phases, events, stack } = input;
  // The last look OBSERVE took at each target (pod_delete: its owner's recovery), by target id.
  const observed = new Map<string, JsonValue>();
  for (const e of events) if (e.type === 'fault.observed') observed.set(String(e.detail.target), e.detail.output as JsonValue);
  const failedRollbacks = stack.filter((entry) => !isSettled(entry));
  return {
    id: record.id,
    status: input.status,
    reason: input.reason,
    error: input.error ?? null,
    execution_arn: record.executionArn ?? null,
    phases: asJson(phases),
    hypothesis: phaseDetail(phases, 'HYPOTHESIS') ?? null,
    plan: (phaseDetail(phases, 'INJECT')?.plan as JsonValue | undefined) ?? null,
    observed: Object.fromEntries(observed),
    rollback_stack: stack.map((entry) => ({
      seq: entry.seq,
      action: entry.action,
      target: entry.target.id,
      state: entry.state,
      snapshot: entry.snapshot,
    })),
    ...(input.unreadable?.length ? { unreadable_items: input.unreadable } : {}),
    failed_rollbacks: failedRollbacks.map((entry) => ({
      seq: entry.seq,
      action: entry.action,
      target: entry.target.id,
      state: entry.state,
      error: entry.outcome?.exception?.join(' ') ?? (entry.state === 'pending' ? 'rollback did not run' : null),
    })),
  };
}

/** The most a stored journal may take as JSON: one DynamoDB item is at most 400 KB, keys and all. */
export const MAX_JOURNAL_BYTES = 350_000;

/**
 * A journal that fits in one stored item. A long experiment probed often can gather more probe results during its
 * observation than an item holds; then `steady_states.during` keeps every tick whose steady state was not met and an
 * even sample of the others, and `chaosduck.journal_compacted` says so. Nothing is lost: every probe result is also
 * an event of its own in the store.
 */
export function fitJournal(journal: JsonObject, maxBytes = MAX_JOURNAL_BYTES): JsonObject {
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  if (size(journal) <= maxBytes) return journal;
  const states = journal.steady_states as { during: { steady_state_met: boolean }[] } & JsonObject;
  const during = states.during;
  const failed = during.filter((tick) => !tick.steady_state_met);
  const met = during.filter((tick) => tick.steady_state_met);
  const budget = maxBytes - size({ ...journal, steady_states: { ...states, during: [] } });
  const perTick = during.length > 0 ? size(during) / during.length : 1;
  const room = Math.max(0, Math.floor(budget / perTick) - 1);
  // Failures first (they are what the experiment teaches), then an even sample of the ticks that were fine.
  const keptFailed = failed.slice(0, room);
  const left = room - keptFailed.length;
  const every = left > 0 ? Math.ceil(met.length / left) : Number.POSITIVE_INFINITY;
  const kept = new Set<unknown>([...keptFailed, ...met.filter((_, index) => index % every === 0)]);
  const compacted = {
    ...journal,
    steady_states: { ...states, during: during.filter((tick) => kept.has(tick)) as unknown as JsonValue },
    chaosduck: {
      ...(journal.chaosduck as JsonObject),
      journal_compacted: {
        ticks_total: during.length,
        ticks_kept: kept.size,
        reason: `the journal exceeded ${maxBytes} bytes; every tick whose steady state was not met is kept first, then an even sample; all probe results remain as the experiment's events`,
      },
    },
  };
  if (size(compacted) <= maxBytes) return compacted;
  // Too large even so (huge probe outputs or snapshots): the outcome only, which is always small.
  const chaosduck = journal.chaosduck as JsonObject;
  return {
    experiment: { title: (journal.experiment as JsonObject).title ?? null },
    start: journal.start ?? null,
    end: journal.end ?? null,
    duration: journal.duration ?? null,
    status: journal.status ?? null,
    deviated: journal.deviated ?? null,
    chaosduck: {
      id: chaosduck.id ?? null,
      status: chaosduck.status ?? null,
      reason: chaosduck.reason ?? null,
      error: chaosduck.error ?? null,
      failed_rollbacks: chaosduck.failed_rollbacks ?? [],
      journal_compacted: {
        ticks_total: during.length,
        ticks_kept: 0,
        reason: `the journal exceeded ${maxBytes} bytes even without its probe ticks; only the outcome is kept here, and everything else remains as the experiment's stored items`,
      },
    },
  };
}
