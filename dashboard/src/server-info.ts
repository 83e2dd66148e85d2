/**
 * What the server that serves the page says of itself, at GET /dashboard.json (no token): who serves it (`serve`, or the
 * signing proxy of `chaosduck dashboard`), where the person finds the token, and whether progress can be followed live
 * (the proxy forwards the WebSocket feed only when started with `--ws`). A server that does not answer it (an older
 * one, a 404) gets the defaults: `serve`, a generic hint, live progress on.
 */
export interface ServerInfo {
  servedBy: 'serve' | 'dashboard';
  /** Where the token comes from, said on the login form. */
  tokenHint: string;
  live: { available: true } | { available: false; reason: string };
}

export const DEFAULT_SERVER_INFO: ServerInfo = {
  servedBy: 'serve',
  tokenHint: 'the token printed when the server started',
  live: { available: true },
};

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** The answer of GET /dashboard.json read leniently: what is missing or of another shape keeps its default. */
export function serverInfoOf(body: unknown): ServerInfo {
  if (typeof body !== 'object' || body === null) return DEFAULT_SERVER_INFO;
  const { served_by: servedBy, token_hint: tokenHint, live_progress: live } = body as Record<string, unknown>;
  const progress = typeof live === 'object' && live !== null ? (live as Record<string, unknown>) : {};
  return {
    servedBy: servedBy === 'dashboard' ? 'dashboard' : 'serve',
    tokenHint: text(tokenHint) ?? DEFAULT_SERVER_INFO.tokenHint,
    live: progress.available === false ? { available: false, reason: text(progress.reason) ?? 'the server does not forward the live progress feed' } : { available: true },
  };
}

/** GET /dashboard.json; the defaults when it is not there or cannot be read (the page works either way). */
export async function readServerInfo(base = ''): Promise<ServerInfo> {
  try {
    const response = await fetch(`${base}/dashboard.json`);
    if (!response.ok) return DEFAULT_SERVER_INFO;
    return serverInfoOf(await response.json());
  } catch {
    return DEFAULT_SERVER_INFO;
  }
}
