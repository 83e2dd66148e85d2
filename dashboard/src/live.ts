/**
 * The live progress feed: the server's WebSocket (`/ws`), one connection per topic (an experiment id, or `*` for every
 * experiment: the server keeps one of the two per connection, a specific id replacing `*`), opened with
 * `?experimentId=<topic>&token=<token>` so it is subscribed before its first event. A dropped connection is opened again,
 * waiting longer each time (up to `MAX_RETRY_MS`); watchers hear `reconnecting`, then `live` once it is back, and
 * should read what they missed meanwhile from the REST API (events are not replayed). A connection refused while the
 * server answers (GET /health: it is up, so the gateway said no, to a token or an id it does not take) is not tried
 * again: watchers hear `refused`. A server without the feed (the proxy of `chaosduck dashboard` without `--ws`) gets
 * `unavailableFeed()`, which opens nothing and says `unavailable`: its watchers read the API every few seconds instead.
 *
 * @example
 * const stop = live.watch(id, (event) => apply(event), (state) => setState(state));
 * // later
 * stop();
 */
import type { JournalEvent } from '../../shared/model/lifecycle.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'refused' | 'unavailable';

export interface LiveFeed {
  /** Calls `onEvent` with each progress event of `topic` (an experiment id, or `*`); returns what stops watching. */
  watch(topic: string, onEvent: (event: JournalEvent) => void, onState?: (state: LiveState) => void): () => void;
  /** Closes every connection. */
  close(): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

interface Watcher {
  onEvent: (event: JournalEvent) => void;
  onState?: (state: LiveState) => void;
}

/** `url`: the WebSocket endpoint (`ws://host/ws`). */
export function createLiveFeed(url: string, token: string): LiveFeed {
  const topics = new Map<string, { watchers: Set<Watcher>; close: () => void; state: LiveState }>();

  const open = (topic: string) => {
    const watchers = new Set<Watcher>();
    let socket: WebSocket | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let wait = FIRST_RETRY_MS;
    let closed = false;
    const entry = { watchers, state: 'connecting' as LiveState, close: () => undefined as void };
    const tell = (state: LiveState) => {
      entry.state = state;
      for (const watcher of watchers) watcher.onState?.(state);
    };
    const connect = () => {
      const ws = new WebSocket(`${url}?${new URLSearchParams({ experimentId: topic, token })}`);
      socket = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        wait = FIRST_RETRY_MS;
        tell('live');
      };
      ws.onmessage = (message) => {
        const event = parse(message.data);
        // Progress events have dotted types (`probe.result`); the gateway's own replies (`subscribed`, `error`) do not.
        if (event && event.type.includes('.') && (topic === '*' || event.experimentId === topic)) {
          for (const watcher of watchers) watcher.onEvent(event);
        }
      };
      // Heard once, from whichever comes first: a browser says error then close; Node's WebSocket only error for a refused handshake.
      let ended = false;
      ws.onerror = ws.onclose = () => {
        if (closed || ended) return;
        ended = true;
        tell('reconnecting');
        void (opened ? Promise.resolve(false) : serverAnswers(url)).then((up) => {
          if (closed) return;
          // Never opened, yet the server is up: the gateway refused this connection, and would refuse the next.
          if (up) return tell('refused');
          retry = setTimeout(connect, wait);
          wait = Math.min(wait * 2, MAX_RETRY_MS);
        });
      };
    };
    entry.close = () => {
      closed = true;
      clearTimeout(retry);
      // Closed while still connecting, a browser complains on the console: let it open first.
      if (socket?.readyState === WebSocket.CONNECTING) socket.onopen = () => socket?.close();
      else socket?.close();
    };
    connect();
    return entry;
  };

  return {
    watch(topic, onEvent, onState) {
      let entry = topics.get(topic);
      if (!entry) {
        entry = open(topic);
        topics.set(topic, entry);
      }
      const watcher: Watcher = { onEvent, ...(onState ? { onState } : {}) };
      entry.watchers.add(watcher);
      onState?.(entry.state);
      const current = entry;
      return () => {
        current.watchers.delete(watcher);
        if (current.watchers.size === 0 && topics.get(topic) === current) {
          topics.delete(topic);
          current.close();
        }
      };
    },
    close() {
      for (const entry of topics.values()) entry.close();
      topics.clear();
    },
  };
}

/** Whether the server behind the WebSocket endpoint answers GET /health (needs no token). */
async function serverAnswers(url: string): Promise<boolean> {
  try {
    const health = new URL('/health', url.replace(/^ws/, 'http'));
    return (await fetch(health)).ok;
  } catch {
    return false;
  }
}

/** The feed of a server that has none: opens nothing; every watcher hears `unavailable`, and no event. */
export function unavailableFeed(): LiveFeed {
  return {
    watch(_topic, _onEvent, onState) {
      onState?.('unavailable');
      return () => undefined;
    },
    close: () => undefined,
  };
}

function parse(data: unknown): JournalEvent | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const value = JSON.parse(data) as Partial<JournalEvent>;
    return typeof value.type === 'string' && typeof value.experimentId === 'string' && typeof value.at === 'string' ? (value as JournalEvent) : undefined;
  } catch {
    return undefined;
  }
}
