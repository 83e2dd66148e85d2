/**
 * One experiment, live: its phases advancing, its probe checks charted as they arrive, its rollback stack and each step
 * played, from GET /api/chaos/experiments/{id} and the progress events of its WebSocket topic (read again from the API
 * whenever the feed comes back after a drop, and when it ends, for the journal); then its journal and its report.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { PHASES } from '../../../shared/model/lifecycle.js';
import { ApiError } from '../api.js';
import { html } from '../html.js';
import type { LiveState } from '../live.js';
import { StatusTag } from '../status.js';
import type { TabProps } from '../tabs.js';
import type { ExperimentDetail, JournalEvent } from '../types.js';
import { everyWhileVisible } from '../visible.js';
import { probeCharts } from './charts.js';
import { FINAL_STATUSES, mergeEvents, phaseStates, rollbackSteps, timelineOf } from './progress.js';

/** How often an experiment is read again when its progress cannot be followed live. */
const POLL_EVERY_MS = 3000;

const messageOf = (error: unknown) => (error instanceof ApiError ? error.message : String(error));
const FEED_WORDS: Partial<Record<LiveState, string>> = {
  live: 'following live',
  refused: 'live feed refused: read every few seconds',
  unavailable: 'read every few seconds',
};
const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '–');

/** The status now: the finishing event's as soon as it is heard, else the record's (running once it started). */
function statusOf(detail: ExperimentDetail, events: readonly JournalEvent[]): string {
  const finished = events.findLast((event) => event.type === 'experiment.finished');
  if (typeof finished?.detail.status === 'string') return finished.detail.status;
  if (detail.status === 'pending' && events.some((event) => event.type === 'experiment.started')) return 'running';
  return detail.status;
}

export function ExperimentPage({ api, live, id }: TabProps & { id: string }) {
  const [detail, setDetail] = useState<ExperimentDetail | undefined>();
  const [events, setEvents] = useState<JournalEvent[]>([]);
  const [feed, setFeed] = useState<LiveState>('connecting');
  const [problem, setProblem] = useState<string | undefined>();
  const [report, setReport] = useState<{ page: string; url: string } | undefined>();
  const [reportProblem, setReportProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  /** The id whose answers are wanted: one that comes back for an id shown before is dropped. */
  const shown = useRef<string | undefined>(undefined);

  const load = useCallback(async () => {
    try {
      const answer = await api.call<ExperimentDetail>('getExperiment', { path: { id } });
      if (shown.current !== id) return;
      setDetail(answer);
      setProblem(undefined);
      if (answer.events) setEvents((known) => mergeEvents(answer.events ?? [], known));
    } catch (error) {
      if (shown.current === id) setProblem(messageOf(error));
    }
  }, [api, id]);

  useEffect(() => {
    shown.current = id;
    setDetail(undefined);
    setEvents([]);
    setReport(undefined);
    void load();
    return () => {
      shown.current = undefined;
    };
  }, [load]);

  // Followed live until it has ended: then nothing more comes, and the connection is let go.
  const ended = detail !== undefined && FINAL_STATUSES.has(statusOf(detail, events));
  useEffect(() => {
    if (ended) return undefined;
    return live.watch(
      id,
      (event) => {
        setEvents((known) => mergeEvents(known, [event]));
        // The rollback stack as written (a rollback run took over), and the journal once it has ended.
        if (event.type === 'experiment.finished' || event.type === 'rollback.started') void load();
      },
      (state) => {
        setFeed(state);
        // Back after a drop: events are not replayed, so what happened meanwhile is read again.
        if (state === 'live') void load();
      },
    );
  }, [live, id, ended, load]);

  // No feed (the server has none, or refused this page's): the experiment is read again every few seconds instead.
  const polled = feed === 'unavailable' || feed === 'refused';
  useEffect(() => (polled && !ended ? everyWhileVisible(document, () => void load(), POLL_EVERY_MS) : undefined), [polled, ended, load]);

  useEffect(
    () => () => {
      if (report) URL.revokeObjectURL(report.url);
    },
    [report],
  );

  const view = useMemo(() => {
    if (!detail) return undefined;
    const status = statusOf(detail, events);
    const final = FINAL_STATUSES.has(status);
    return {
      status,
      final,
      phases: phaseStates(detail.phase_results, events, status),
      steps: rollbackSteps(detail.rollback_stack, events),
      charts: probeCharts(timelineOf(final ? detail : { phase_results: detail.phase_results }, events), 'live'),
      hypothesis: String(
        events.find((event) => event.type === 'hypothesis.formed')?.detail.statement ?? detail.phase_results.find((result) => result.phase === 'HYPOTHESIS')?.detail.statement ?? '',
      ),
    };
  }, [detail, events]);

  if (!detail || !view) {
    return html`<section class="panel">
      <p><a href="#/experiments">← Experiments</a></p>
      ${problem ? html`<p class="problem" role="alert">${problem}</p>` : html`<p role="status">Loading ${id}…</p>`}
    </section>`;
  }

  const rollBack = async () => {
    setBusy(true);
    try {
      await api.call('rollbackExperiment', { path: { id } });
    } catch (error) {
      setProblem(messageOf(error));
    } finally {
      setBusy(false);
    }
  };
  const openReport = async () => {
    setReportProblem(undefined);
    try {
      const page = await api.text('experimentReport', { path: { id } });
      setReport({ page, url: URL.createObjectURL(new Blob([page], { type: 'text/html' })) });
    } catch (error) {
      setReportProblem(messageOf(error));
    }
  };

  return html`
    <section class="panel" aria-labelledby="experiment-title">
      <p><a href="#/experiments">← Experiments</a></p>
      <div class="toolbar">
        <h2 id="experiment-title" tabindex="-1">${detail.name}</h2>
        <p role="status" aria-live="polite">
          <span class="experiment-status"><${StatusTag} status=${view.status} /></span>
          ${view.final ? null : html` <${StatusTag} status=${feed} label=${FEED_WORDS[feed] ?? feed} />`}
        </p>
      </div>
      ${problem ? html`<p class="problem" role="alert">${problem}</p>` : null}
      <dl class="facts">
        <dt>id</dt><dd><code>${detail.id}</code></dd>
        <dt>chaos type</dt><dd>${detail.chaos_type ?? detail.format}</dd>
        <dt>created</dt><dd>${when(detail.created_at)}</dd>
        <dt>started</dt><dd>${when(detail.started_at)}</dd>
        <dt>ended</dt><dd>${when(detail.ended_at)}</dd>
        ${detail.reason ? html`<dt>reason</dt><dd>${detail.reason}</dd>` : null}
        ${detail.error ? html`<dt>error</dt><dd>${detail.error}</dd>` : null}
        ${typeof detail.deviated === 'boolean' && view.final ? html`<dt>deviated</dt><dd>${detail.deviated ? 'yes: the steady state did not hold' : 'no'}</dd>` : null}
      </dl>
      ${view.final ? null : html`<div class="actions"><button type="button" onClick=${rollBack} disabled=${busy}>Roll back now</button></div>`}
    </section>

    <section class="panel" aria-labelledby="phases-title">
      <h3 id="phases-title">Phases</h3>
      <ol class="phases">
        ${PHASES.map((phase) => html`<li data-phase=${phase} data-state=${view.phases[phase]}><span class="name">${phase}</span><${StatusTag} status=${view.phases[phase]} /></li>`)}
      </ol>
      ${view.hypothesis ? html`<p><strong>Hypothesis:</strong> ${view.hypothesis}</p>` : null}
    </section>

    <section class="panel" aria-labelledby="probes-title">
      <h3 id="probes-title">Probes</h3>
      ${view.charts.length === 0
        ? html`<p class="muted">No probe check yet.</p>`
        : view.charts.map((chart) => html`<div class="probe-chart" data-probe=${chart.name} dangerouslySetInnerHTML=${{ __html: chart.svg }}></div>`)}
    </section>

    <section class="panel" aria-labelledby="rollback-title">
      <h3 id="rollback-title">Rollback stack</h3>
      ${view.steps.length === 0
        ? html`<p class="muted">Nothing to roll back: no fault was applied${view.final ? '' : ' yet'}.</p>`
        : html`<table>
            <caption class="muted">Last change first: the order the rollback plays them in</caption>
            <thead><tr><th scope="col">#</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">State</th><th scope="col">Outcome</th></tr></thead>
            <tbody>
              ${view.steps.map(
                (step) => html`<tr data-seq=${step.seq}>
                  <td>${step.seq}</td><td><code>${step.action}</code></td><td><code>${step.target}</code></td>
                  <td><${StatusTag} status=${step.state} /></td>
                  <td>${step.record ? outcomeOf(step.record) : '–'}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    </section>

    <section class="panel" aria-labelledby="report-title">
      <h3 id="report-title">Report</h3>
      ${!view.final
        ? html`<p class="muted">The report is written once the experiment has ended.</p>`
        : report
          ? html`<p><a href=${report.url} target="_blank" rel="noopener">Open the report in a new tab</a></p>
              <iframe class="report" title=${`Report of ${detail.name}`} sandbox="" srcdoc=${report.page}></iframe>`
          : html`<button type="button" onClick=${openReport}>Show the report</button>`}
      ${reportProblem ? html`<p class="problem" role="alert">${reportProblem}</p>` : null}
    </section>

    <section class="panel" aria-labelledby="journal-title">
      <h3 id="journal-title">Journal</h3>
      ${detail.journal
        ? html`<details><summary>The journal (JSON)</summary><pre>${JSON.stringify(detail.journal, null, 2)}</pre></details>`
        : html`<p class="muted">Written once the experiment has ended.</p>
            <details><summary>Events so far (${events.length})</summary><pre>${JSON.stringify(events, null, 2)}</pre></details>`}
    </section>
  `;
}

/** A played step in a few words: how long it took, or why it failed. */
function outcomeOf(record: Record<string, unknown>): string {
  const exception = Array.isArray(record.exception) ? record.exception.join(' ').trim() : '';
  if (exception) return exception.slice(0, 200);
  return typeof record.duration === 'number' ? `${record.status === 'failed' ? 'failed' : 'took'} ${record.duration.toFixed(3)} s` : String(record.status ?? '');
}
