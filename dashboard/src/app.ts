/**
 * The dashboard's shell: what the server says of itself (GET /dashboard.json: where the token comes from, whether
 * progress can be followed live), the login (the bearer token, kept in sessionStorage for this tab only), the tabs (Experiments, Topology, Analysis; each a module of its own, given the props of tabs.ts), the
 * emergency stop that is always on screen, and the place in the dashboard, kept in the location's hash (route.ts).
 */
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { AnalysisTab } from './analysis.js';
import { ApiError, connect, readHealth, type Api, type EmergencyStop } from './api.js';
import { EmergencyStopControl } from './estop.js';
import { ExperimentsTab, type Draft, type FormMemory } from './experiments/tab.js';
import { html } from './html.js';
import { createLiveFeed, unavailableFeed, type LiveFeed } from './live.js';
import { TABS, parseRoute, type Route } from './route.js';
import { DEFAULT_SERVER_INFO, readServerInfo, type ServerInfo } from './server-info.js';
import type { ExperimentTarget } from './tabs.js';
import { TopologyTab } from './topology.js';
import { everyWhileVisible } from './visible.js';
import './style.css';

const TOKEN_KEY = 'chaosduck.token';
/** How often the emergency stop's state is read from GET /health while the page is visible (besides after every change made here). */
const HEALTH_EVERY_MS = 5000;

interface Session {
  api: Api;
  live: LiveFeed;
}

const webSocketUrl = () => `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;

function loginProblem(error: unknown, tokenHint: string): string {
  if (error instanceof ApiError && error.status === 401) return `That token was refused. Use ${tokenHint}.`;
  if (error instanceof ApiError) return `The server could not check the token: ${error.message}`;
  return `The server could not be reached: ${(error as Error).message}`;
}

function App() {
  const [session, setSession] = useState<Session | undefined>();
  const [checking, setChecking] = useState(() => sessionStorage.getItem(TOKEN_KEY) !== null);
  const [loginMessage, setLoginMessage] = useState<string | undefined>();
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [stop, setStop] = useState<EmergencyStop | undefined>();
  const [server, setServer] = useState<ServerInfo | undefined>();
  const [draft, setDraft] = useState<Draft | undefined>();
  const [formMemory, setFormMemory] = useState<FormMemory | undefined>();
  const [plannedTargets, setPlannedTargets] = useState<readonly string[]>([]);
  const sessionRef = useRef<Session | undefined>(undefined);
  /** Set when the view changes on the person's doing (logging in, a target sent to the form): its heading takes the focus. */
  const focusHeading = useRef(false);

  const logOut = useCallback((message?: string) => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionRef.current?.live.close();
    sessionRef.current = undefined;
    setSession(undefined);
    setLoginMessage(message);
  }, []);

  const logIn = useCallback(
    async (token: string, info: ServerInfo) => {
      const api = await connect(token, {
        onUnauthorized: () => logOut('The server refused the token (a restarted server may have a new one): log in again.'),
      });
      sessionStorage.setItem(TOKEN_KEY, token);
      // Without the feed (the proxy started without --ws) no WebSocket is opened: pages read the API every few seconds.
      const next = { api, live: info.live.available ? createLiveFeed(webSocketUrl(), token) : unavailableFeed() };
      sessionRef.current = next;
      setLoginMessage(undefined);
      focusHeading.current = true;
      setSession(next);
    },
    [logOut],
  );

  useEffect(() => {
    void readServerInfo().then((info) => {
      setServer(info);
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (token === null) return;
      logIn(token, info)
        .catch((error: unknown) => {
          // Only a refusal of the token forgets it: a server that is down or answers 502 now may take it in a moment.
          if (error instanceof ApiError && error.status === 401) logOut(loginProblem(error, info.tokenHint));
          else setLoginMessage(`${loginProblem(error, info.tokenHint)} The saved token is kept: reload the page to try again.`);
        })
        .finally(() => setChecking(false));
    });
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, [logIn, logOut]);

  // The new view's heading takes the focus (else it falls to <body> with the view that had it), once it is drawn.
  useEffect(() => {
    if (!focusHeading.current || !session) return undefined;
    focusHeading.current = false;
    let tries = 0;
    const timer = setInterval(() => {
      const heading = document.querySelector<HTMLElement>('main h2[tabindex="-1"]');
      if (heading || ++tries > 20) clearInterval(timer);
      heading?.focus();
    }, 50);
    return () => clearInterval(timer);
  }, [session, route]);

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
    return everyWhileVisible(document, () => void refreshHealth(), HEALTH_EVERY_MS);
  }, [refreshHealth]);

  const navigate = useCallback((hash: string) => {
    location.hash = hash;
  }, []);
  const onSelectTargets = useCallback(
    (target: ExperimentTarget) => {
      setDraft((previous) => ({ experiment: { target }, merge: true, seq: (previous?.seq ?? 0) + 1 }));
      focusHeading.current = true;
      navigate('#/experiments/new');
    },
    [navigate],
  );
  const onDraftExperiment = useCallback(
    (experiment: Record<string, unknown>) => {
      setDraft((previous) => ({ experiment, merge: false, seq: (previous?.seq ?? 0) + 1 }));
      focusHeading.current = true;
      navigate('#/experiments/new');
    },
    [navigate],
  );

  const onDraftTaken = useCallback(() => setDraft(undefined), []);
  const onFreshForm = useCallback(() => setFormMemory(undefined), []);
  const info = server ?? DEFAULT_SERVER_INFO;

  const tab = () => {
    if (!session) return undefined;
    const props = { api: session.api, live: session.live, server: info, navigate };
    if (route.tab === 'topology') return html`<${TopologyTab} ...${props} onSelectTargets=${onSelectTargets} plannedTargets=${plannedTargets} />`;
    if (route.tab === 'analysis') return html`<${AnalysisTab} ...${props} onDraftExperiment=${onDraftExperiment} />`;
    return html`<${ExperimentsTab}
      ...${props}
      route=${route}
      draft=${draft}
      onDraftTaken=${onDraftTaken}
      formMemory=${formMemory}
      onFormMemory=${setFormMemory}
      onFreshForm=${onFreshForm}
      onPlannedTargets=${setPlannedTargets}
    />`;
  };

  const skipToContent = (event: Event) => {
    // Not by its href: the hash is the dashboard's place (route.ts).
    event.preventDefault();
    document.getElementById('main')?.focus();
  };

  return html`
    <a class="skip" href="#main" onClick=${skipToContent}>Skip to content</a>
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
    ${session && !info.live.available ? html`<${LiveNotice} reason=${info.live.reason} />` : null}
    <main id="main" tabindex="-1">
      ${session
        ? tab()
        : checking || !server
          ? html`<p class="panel" role="status">${checking ? 'Checking the saved token…' : 'Loading…'}</p>`
          : html`<${Login} onLogIn=${(token: string) => logIn(token, server)} message=${loginMessage} tokenHint=${server.tokenHint} />`}
    </main>
  `;
}

/** The server's words with what it marks `like this` shown as code. */
const withCode = (text: string) => text.split('`').map((part, index) => (index % 2 === 1 ? html`<code>${part}</code>` : part));

/** Said once, calmly, when progress cannot be followed live: why, and what the pages do instead. */
function LiveNotice({ reason }: { reason: string }) {
  const [shown, setShown] = useState(true);
  if (!shown) return null;
  return html`<p class="notice live-notice" role="status">
    No live progress: ${reason}. Experiment pages are read again every few seconds instead.
    <button type="button" onClick=${() => setShown(false)}>Dismiss</button>
  </p>`;
}

function Login({ onLogIn, message, tokenHint }: { onLogIn: (token: string) => Promise<void>; message: string | undefined; tokenHint: string }) {
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
      setProblem(loginProblem(error, tokenHint));
      setBusy(false);
      input.current?.focus();
    }
  };

  return html`<form class="panel login" onSubmit=${submit} aria-labelledby="login-title" novalidate>
    <h1 id="login-title">Log in</h1>
    <p>Paste ${withCode(tokenHint)}. It stays in this browser tab only.</p>
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
