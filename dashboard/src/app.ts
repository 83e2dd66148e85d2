/**
 * The dashboard's shell: the login (the bearer token `chaosduck serve` prints, kept in sessionStorage for this tab
 * only), the tabs (Experiments, Topology, Analysis; each a module of its own, given the props of tabs.ts), the
 * emergency stop that is always on screen, and the place in the dashboard, kept in the location's hash (route.ts).
 */
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { AnalysisTab } from './analysis.js';
import { ApiError, connect, readHealth, type Api, type EmergencyStop } from './api.js';
import { EmergencyStopControl } from './estop.js';
import { ExperimentsTab, type Draft } from './experiments/tab.js';
import { html } from './html.js';
import { createLiveFeed, type LiveFeed } from './live.js';
import { TABS, parseRoute, type Route } from './route.js';
import type { ExperimentTarget } from './tabs.js';
import { TopologyTab } from './topology.js';
import './style.css';

const TOKEN_KEY = 'chaosduck.token';
/** How often the emergency stop's state is read from GET /health (besides after every change made here). */
const HEALTH_EVERY_MS = 5000;

interface Session {
  api: Api;
  live: LiveFeed;
}

const webSocketUrl = () => `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;

function loginProblem(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return 'That token was refused. Use the token chaosduck serve printed (it is also in .chaosduck/token).';
  if (error instanceof ApiError) return `The server could not check the token: ${error.message}`;
  return `The server could not be reached: ${(error as Error).message}`;
}

function App() {
  const [session, setSession] = useState<Session | undefined>();
  const [checking, setChecking] = useState(() => sessionStorage.getItem(TOKEN_KEY) !== null);
  const [loginMessage, setLoginMessage] = useState<string | undefined>();
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [stop, setStop] = useState<EmergencyStop | undefined>();
  const [draft, setDraft] = useState<Draft | undefined>();
  const [plannedTargets, setPlannedTargets] = useState<readonly string[]>([]);
  const sessionRef = useRef<Session | undefined>(undefined);

  const logOut = useCallback((message?: string) => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionRef.current?.live.close();
    sessionRef.current = undefined;
    setSession(undefined);
    setLoginMessage(message);
  }, []);

  const logIn = useCallback(
    async (token: string) => {
      const api = await connect(token, {
        onUnauthorized: () => logOut('The server refused the token (a restarted server may have a new one): log in again.'),
      });
      sessionStorage.setItem(TOKEN_KEY, token);
      const next = { api, live: createLiveFeed(webSocketUrl(), token) };
      sessionRef.current = next;
      setLoginMessage(undefined);
      setSession(next);
    },
    [logOut],
  );

  useEffect(() => {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token !== null) {
      logIn(token)
        .catch((error: unknown) => logOut(loginProblem(error)))
        .finally(() => setChecking(false));
    }
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, [logIn, logOut]);

  const refreshHealth = useCallback(async () => {
    try {
      setStop((await readHealth()).emergency_stop);
    } catch {
      // Shown as unknown until the next read succeeds.
      setStop(undefined);
    }
  }, []);
  useEffect(() => {
    void refreshHealth();
    const timer = setInterval(() => void refreshHealth(), HEALTH_EVERY_MS);
    return () => clearInterval(timer);
  }, [refreshHealth]);

  const navigate = useCallback((hash: string) => {
    location.hash = hash;
  }, []);
  const onSelectTargets = useCallback(
    (target: ExperimentTarget) => {
      setDraft((previous) => ({ experiment: { target }, merge: true, seq: (previous?.seq ?? 0) + 1 }));
      navigate('#/experiments/new');
    },
    [navigate],
  );
  const onDraftExperiment = useCallback(
    (experiment: Record<string, unknown>) => {
      setDraft((previous) => ({ experiment, merge: false, seq: (previous?.seq ?? 0) + 1 }));
      navigate('#/experiments/new');
    },
    [navigate],
  );

  const tab = () => {
    if (!session) return undefined;
    const props = { api: session.api, live: session.live, navigate };
    if (route.tab === 'topology') return html`<${TopologyTab} ...${props} onSelectTargets=${onSelectTargets} plannedTargets=${plannedTargets} />`;
    if (route.tab === 'analysis') return html`<${AnalysisTab} ...${props} onDraftExperiment=${onDraftExperiment} />`;
    return html`<${ExperimentsTab} ...${props} route=${route} draft=${draft} onPlannedTargets=${setPlannedTargets} />`;
  };

  return html`
    <header class="top">
      <span class="brand">ChaosDuck</span>
      <nav aria-label="Tabs">
        ${TABS.map(
          ({ tab: name, label }) =>
            html`<a href=${`#/${name}`} class=${`tab${route.tab === name ? ' current' : ''}`} aria-current=${route.tab === name ? 'page' : undefined}>${label}</a>`,
        )}
      </nav>
      <${EmergencyStopControl} session=${session} stop=${stop} onChange=${refreshHealth} />
    </header>
    <main id="main">
      ${session ? tab() : checking ? html`<p class="panel" role="status">Checking the saved token…</p>` : html`<${Login} onLogIn=${logIn} message=${loginMessage} />`}
    </main>
  `;
}

function Login({ onLogIn, message }: { onLogIn: (token: string) => Promise<void>; message: string | undefined }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | undefined>(message);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => setProblem(message), [message]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!token.trim()) {
      setProblem('Paste the token first.');
      return;
    }
    setBusy(true);
    setProblem(undefined);
    try {
      await onLogIn(token.trim());
    } catch (error) {
      setProblem(loginProblem(error));
      setBusy(false);
      input.current?.focus();
    }
  };

  return html`<form class="panel login" onSubmit=${submit} aria-labelledby="login-title" novalidate>
    <h1 id="login-title">Log in</h1>
    <p>Paste the bearer token <code>chaosduck serve</code> printed when it started (it is also kept in <code>.chaosduck/token</code>). It stays in this browser tab only.</p>
    ${problem ? html`<p class="problem" role="alert" id="login-problem"><span class="tag bad">Not logged in</span> ${problem}</p>` : null}
    <label for="token">Bearer token</label>
    <input
      id="token"
      ref=${input}
      type="password"
      autocomplete="off"
      spellcheck=${false}
      value=${token}
      aria-invalid=${problem ? 'true' : undefined}
      aria-describedby=${problem ? 'login-problem' : undefined}
      onInput=${(event: Event) => setToken((event.target as HTMLInputElement).value)}
    />
    <button type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Log in'}</button>
  </form>`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
