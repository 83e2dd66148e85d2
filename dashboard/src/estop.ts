/**
 * The emergency stop, on screen on every tab: a red button that asks first (with a reason), then raises the stop
 * (POST /emergency-stop: every running experiment rolls back, no new one starts) and shows each experiment it caught
 * rolling back, live from the WebSocket feed, until it has ended; and the button that lifts it (DELETE). Whether the
 * stop is on is read from GET /health by the shell (it needs no token, so it shows before logging in too).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api, type EmergencyStop } from './api.js';
import { html } from './html.js';
import type { LiveFeed } from './live.js';
import { StatusTag } from './status.js';
import type { ExperimentDetail, ExperimentPage, JournalEvent } from './types.js';
import { everyWhileVisible } from './visible.js';

interface Caught {
  name: string;
  /** `running` until its rollback run starts, then `rolling_back`, then its final status. */
  status: string;
  steps: number;
}

/** How often the caught experiments are read again when there is no live feed. */
const POLL_EVERY_MS = 3000;
const FINAL = new Set(['completed', 'failed', 'aborted', 'rolled_back', 'emergency_stopped']);

/** What an event changes of one caught experiment. */
export function caughtAfter(caught: Caught | undefined, event: JournalEvent): Caught | undefined {
  const name = typeof event.detail.name === 'string' ? event.detail.name : (caught?.name ?? event.experimentId);
  // Only the stop's own rollbacks join the list; one already on it may have been handed to a rollback before.
  if (event.type === 'rollback.started' && (caught || event.detail.reason === 'emergency_stop')) return { name, status: 'rolling_back', steps: caught?.steps ?? 0 };
  if (!caught) return undefined;
  if (event.type === 'rollback.step') return { ...caught, steps: caught.steps + 1 };
  if (event.type === 'experiment.finished' && typeof event.detail.status === 'string') return { ...caught, status: event.detail.status };
  return caught;
}

async function activeExperiments(api: Api): Promise<Map<string, Caught>> {
  const found = new Map<string, Caught>();
  for (const status of ['running', 'pending']) {
    const page = await api.call<ExperimentPage>('listExperiments', { query: { status, limit: 100 } });
    for (const item of page.items) found.set(item.id, { name: item.name, status: item.phase === 'ROLLBACK' ? 'rolling_back' : item.status, steps: 0 });
  }
  return found;
}

export function EmergencyStopControl({ session, stop, onChange }: { session: { api: Api; live: LiveFeed } | undefined; stop: EmergencyStop | undefined; onChange: () => Promise<void> }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [caught, setCaught] = useState<ReadonlyMap<string, Caught>>(new Map());
  /** The list as shown now, for refresh(), which the feed's callback keeps from the render it was made in. */
  const caughtNow = useRef(caught);
  caughtNow.current = caught;
  /** No feed to follow the rollbacks by (the server has none, or refused it): they are read again every few seconds. */
  const [feedless, setFeedless] = useState(false);
  const active = stop?.active === true;

  // Every experiment's events while logged in: those the stop caught are followed from the moment it is raised.
  useEffect(() => {
    if (!session) return undefined;
    let wasLive = false;
    return session.live.watch(
      '*',
      (event) =>
        setCaught((current) => {
          const next = caughtAfter(current.get(event.experimentId), event);
          return next === current.get(event.experimentId) || !next ? current : new Map(current).set(event.experimentId, next);
        }),
      (state) => {
        setFeedless(state === 'unavailable' || state === 'refused');
        // Back after a drop: what was missed meanwhile is read again.
        if (state === 'live' && wasLive) void refresh(session.api);
        wasLive ||= state === 'live';
      },
    );
  }, [session]);

  /** Each caught experiment's status as stored now (after a reconnection, or when the stop was raised elsewhere). */
  const refresh = async (api: Api) => {
    const current = await activeExperiments(api).catch(() => new Map<string, Caught>());
    setCaught((known) => {
      const next = new Map(known);
      for (const [id, item] of current) if (!next.has(id) || !FINAL.has(next.get(id)?.status ?? '')) next.set(id, { ...item, steps: next.get(id)?.steps ?? 0 });
      return next;
    });
    for (const [id, item] of caughtNow.current) {
      if (FINAL.has(item.status) || current.has(id)) continue;
      const detail = await api.call<ExperimentDetail>('getExperiment', { path: { id } }).catch(() => undefined);
      if (detail) setCaught((known) => new Map(known).set(id, { ...item, status: detail.status }));
    }
  };

  // Raised elsewhere (another tab, curl): show what is still running.
  useEffect(() => {
    if (active && session && caught.size === 0) void refresh(session.api);
    if (!active) setCaught(new Map());
  }, [active, session]);

  useEffect(() => (active && session && feedless ? everyWhileVisible(document, () => void refresh(session.api), POLL_EVERY_MS) : undefined), [active, session, feedless]);

  const open = () => {
    setProblem(undefined);
    dialog.current?.showModal();
  };
  const raise = async (event: Event) => {
    event.preventDefault();
    if (!session) return;
    setBusy(true);
    setProblem(undefined);
    try {
      const running = await activeExperiments(session.api);
      setCaught((known) => new Map([...running, ...known]));
      await session.api.call('raiseEmergencyStop', { body: { reason: reason.trim() } });
      dialog.current?.close();
      setReason('');
      await onChange();
    } catch (error) {
      setProblem(error instanceof ApiError ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };
  const lift = async () => {
    if (!session) return;
    setBusy(true);
    setProblem(undefined);
    try {
      await session.api.call('liftEmergencyStop');
      await onChange();
    } catch (error) {
      setProblem(error instanceof ApiError ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  const since = stop?.since ? new Date(stop.since).toLocaleTimeString() : undefined;
  return html`
    <button type="button" class="estop" onClick=${open} disabled=${!session} title=${session ? undefined : 'Log in to use the emergency stop'}>
      <span aria-hidden="true">■ </span>Emergency stop
    </button>
    <dialog ref=${dialog} class="estop-dialog" aria-labelledby="estop-title" aria-describedby="estop-what">
      <form onSubmit=${raise}>
        <h2 id="estop-title">Raise the emergency stop?</h2>
        <p id="estop-what">Every running experiment is stopped and rolled back at once, last change first, and no experiment can start until the stop is lifted.</p>
        <label for="estop-reason">Reason</label>
        <textarea id="estop-reason" rows="2" maxlength="1024" value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLTextAreaElement).value)}></textarea>
        ${problem && !active ? html`<p class="problem" role="alert">${problem}</p>` : null}
        <div class="actions">
          <button type="submit" class="estop" disabled=${busy}>${busy ? 'Stopping…' : 'Stop everything'}</button>
          <button type="button" onClick=${() => dialog.current?.close()}>Cancel</button>
        </div>
      </form>
    </dialog>
    ${active
      ? html`<section class="stop-panel" aria-labelledby="stop-title">
          <h2 id="stop-title"><${StatusTag} status="emergency_stopped" label="Emergency stop on" /></h2>
          <p>
            ${since ? `Raised at ${since}` : 'Raised'}${stop?.reason ? html`: “${stop.reason}”` : null}. No experiment can start until it is lifted.
          </p>
          ${caught.size > 0
            ? html`<ul class="caught" aria-label="Experiments the stop rolled back">
                ${[...caught].map(
                  ([id, item]) => html`<li data-id=${id}>
                    <a href=${`#/experiments/${encodeURIComponent(id)}`}>${item.name}</a> <${StatusTag} status=${item.status} />
                    ${item.steps > 0 ? html` <span class="muted">${item.steps} rollback step${item.steps === 1 ? '' : 's'}</span>` : null}
                  </li>`,
                )}
              </ul>`
            : html`<p class="muted">No experiment was running.</p>`}
          ${problem && active ? html`<p class="problem" role="alert">${problem}</p>` : null}
          ${session ? html`<button type="button" onClick=${lift} disabled=${busy}>Lift the emergency stop</button>` : html`<p>Log in to lift it.</p>`}
        </section>`
      : null}
  `;
}
