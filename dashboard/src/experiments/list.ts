/**
 * The experiment list: newest first, filtered by status and chaos type (the choices the API's own description of
 * GET /api/chaos/experiments gives), a page at a time (`next_cursor`), refreshed as experiments start and end.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { html } from '../html.js';
import { StatusTag, wordsOf } from '../status.js';
import type { TabProps } from '../tabs.js';
import type { ExperimentPage } from '../types.js';

const PAGE_SIZE = 20;
/** Events after which the list may have changed; several close together refresh it once. */
const CHANGES = new Set(['experiment.started', 'rollback.started', 'experiment.finished']);
const REFRESH_AFTER_MS = 300;

/** The values a query parameter of an operation takes, from the OpenAPI document. */
function choicesOf(document: TabProps['api']['document'], path: string, name: string): string[] {
  const parameter = document.paths[path]?.get?.parameters?.find((p) => p.name === name && p.in === 'query');
  return ((parameter?.schema?.enum as unknown[] | undefined) ?? []).map(String);
}

export function ExperimentList({ api, live, onFreshForm }: TabProps & { onFreshForm(): void }) {
  const statuses = useMemo(() => choicesOf(api.document, '/api/chaos/experiments', 'status'), [api]);
  const chaosTypes = useMemo(() => choicesOf(api.document, '/api/chaos/experiments', 'chaos_type'), [api]);
  const [status, setStatus] = useState('');
  const [chaosType, setChaosType] = useState('');
  /** The cursors of the pages before this one; the last is this page's. */
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPage] = useState<ExperimentPage | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [changed, setChanged] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api
      .call<ExperimentPage>('listExperiments', { query: { status, chaos_type: chaosType, limit: PAGE_SIZE, cursor: cursors.at(-1) }, signal: controller.signal })
      .then((answer) => {
        setPage(answer);
        setProblem(undefined);
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setProblem(error instanceof ApiError ? error.message : String(error));
      });
    return () => controller.abort();
  }, [api, status, chaosType, cursors, changed]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = live.watch('*', (event) => {
      if (!CHANGES.has(event.type)) return;
      clearTimeout(timer);
      timer = setTimeout(() => setChanged((n) => n + 1), REFRESH_AFTER_MS);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [live]);

  const filter = (set: (value: string) => void) => (event: Event) => {
    set((event.target as HTMLSelectElement).value);
    setCursors([]);
  };

  return html`<section class="panel" aria-labelledby="experiments-title">
    <div class="toolbar">
      <h2 id="experiments-title" tabindex="-1">Experiments</h2>
      <a class="button primary" href="#/experiments/new" onClick=${onFreshForm}>New experiment</a>
    </div>
    <div class="filters" role="group" aria-label="Filters">
      <div>
        <label for="filter-status">Status</label>
        <select id="filter-status" value=${status} onChange=${filter(setStatus)}>
          <option value="">any</option>
          ${statuses.map((value) => html`<option value=${value}>${wordsOf(value)}</option>`)}
        </select>
      </div>
      <div>
        <label for="filter-chaos-type">Chaos type</label>
        <select id="filter-chaos-type" value=${chaosType} onChange=${filter(setChaosType)}>
          <option value="">any</option>
          ${chaosTypes.map((value) => html`<option value=${value}>${value}</option>`)}
        </select>
      </div>
    </div>
    ${problem ? html`<p class="problem" role="alert">${problem}</p>` : null}
    ${!page
      ? html`<p role="status">Loading…</p>`
      : page.items.length === 0
        ? html`<p>No experiment${status || chaosType ? ' matches these filters' : ' yet'}. <a href="#/experiments/new" onClick=${onFreshForm}>Start one</a>.</p>`
        : html`<table>
            <caption class="muted">Newest first${cursors.length > 0 ? `, page ${cursors.length + 1}` : ''}</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Chaos type</th><th scope="col">Status</th><th scope="col">Phase</th><th scope="col">Created</th><th scope="col">Ended</th></tr></thead>
            <tbody>
              ${page.items.map(
                (item) => html`<tr data-id=${item.id}>
                  <td><a href=${`#/experiments/${encodeURIComponent(item.id)}`}>${item.name}</a><div class="muted"><code>${item.id}</code></div></td>
                  <td>${item.chaos_type ?? item.format}</td>
                  <td><${StatusTag} status=${item.status} />${item.deviated ? html` <span class="tag warn">deviated</span>` : null}</td>
                  <td>${item.status === 'running' ? (item.phase ?? '–') : '–'}</td>
                  <td>${new Date(item.created_at).toLocaleString()}</td>
                  <td>${item.ended_at ? new Date(item.ended_at).toLocaleString() : '–'}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <div class="actions" role="group" aria-label="Pages">
      <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors((list) => list.slice(0, -1))}>Newer</button>
      <button type="button" disabled=${!page?.next_cursor} onClick=${() => page?.next_cursor && setCursors((list) => [...list, page.next_cursor as string])}>Older</button>
    </div>
  </section>`;
}
