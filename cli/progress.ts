/** One line per progress event, for people watching a run in a terminal. */
import type { ActivityRecord } from '../shared/journal/activity.js';
import type { JournalEvent } from '../shared/model/lifecycle.js';

const mark = (ok: boolean) => (ok ? '✓' : '✗');

function activityLine(record: ActivityRecord): string {
  const ok = record.status === 'succeeded' && record.tolerance_met !== false;
  const output = record.output as { failures?: string[]; status?: number; latency_ms?: number; value?: number | null; recovered_after_ms?: number | null } | undefined;
  const facts = [
    output?.status !== undefined ? `status ${output.status}` : '',
    typeof output?.value === 'number' ? `value ${output.value}` : '',
    output?.latency_ms !== undefined ? `${Math.round(output.latency_ms)} ms` : '',
    typeof output?.recovered_after_ms === 'number' ? `replica replaced ${output.recovered_after_ms} ms after the kill` : '',
    ...(output?.failures ?? []),
    ...(record.exception ?? []),
  ].filter(Boolean);
  return `${mark(ok)} ${record.activity.type} ${record.activity.name}${facts.length ? ` (${facts.join('; ')})` : ''}`;
}

export function formatEvent(event: JournalEvent, startedAt: number): string {
  const elapsed = `+${((Date.parse(event.at) - startedAt) / 1000).toFixed(2)}s`.padStart(8);
  const phase = (event.phase ?? '').padEnd(12);
  const d = event.detail;
  const text = ((): string => {
    switch (event.type) {
      case 'experiment.started':
        return `experiment "${String(d.name)}" started`;
      case 'rollback.started':
        return `rollback run started (${String(d.reason)})`;
      case 'probe.result': {
        const when = d.when === 'during' ? `tick ${String(d.tick)}` : String(d.when);
        return `${activityLine(d.record as unknown as ActivityRecord)} [${when}]`;
      }
      case 'hypothesis.formed':
        return `hypothesis: ${String(d.statement)}`;
      case 'fault.planned': {
        const targets = (d.targets as { id: string }[]).map((t) => t.id).join(', ');
        const sel = d.selection as { matching: number; capped: boolean };
        return `plan: ${String((d.fault as { chaos_type: string }).chaos_type)} on ${targets} (${sel.matching} matching${sel.capped ? ', capped by max_blast_radius' : ''})`;
      }
      case 'fault.applied':
      case 'activity.completed':
        return activityLine(d.record as unknown as ActivityRecord);
      case 'rollback.step':
        return d.state === 'skipped' ? `- rollback ${String(d.target)} not played (rollback strategy ${String(d.strategy)})` : activityLine(d.record as unknown as ActivityRecord);
      case 'hypothesis.checked': {
        const probes = (d.probes as unknown as ActivityRecord[]).map((record) => activityLine(record)).join(', ');
        const when = d.when === 'during' ? `during the method, #${String(d.iteration)}` : String(d.when);
        return `${mark(d.steady_state_met === true)} steady state ${d.steady_state_met ? 'met' : 'not met'} [${when}]${probes ? `: ${probes}` : ''}`;
      }
      case 'phase.completed':
        return `${mark(true)} phase done${d.deviated ? ' — steady state deviated' : ''}`;
      case 'phase.failed':
        return `${mark(false)} phase failed ${JSON.stringify(d)}`;
      case 'experiment.finished':
        return `finished: ${String(d.status)} (${String(d.reason)})${d.deviated ? ', deviated' : ''}`;
      default:
        return event.type;
    }
  })();
  return `${elapsed}  ${phase}${text}`;
}
