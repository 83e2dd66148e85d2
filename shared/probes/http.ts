/**
 * The `http` probe: one request, judged on status, latency and body. Whatever goes wrong on the way (refused, reset,
 * timed out) is a measurement of the system under test, so it comes back as a failed outcome, never as a throw. Only
 * cancelling the run (`env.signal`) throws, because then there is nothing to measure.
 */
import type { HttpProbe } from '../model/experiment.js';
import { BoundedCapture, excerpt } from './capture.js';
import type { ProbeEnvironment, ProbeOutcome } from './probe.js';
import { textFailures } from './text-tolerance.js';

/** The body is read to the end for the latency, but only this much is kept for `body_contains` / `body_matches`. */
export const MAX_BODY_BYTES = 1024 * 1024;

const CONNECTION_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
};

export async function runHttpProbe(probe: HttpProbe, env: ProbeEnvironment): Promise<ProbeOutcome> {
  const props = probe.properties;
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);

  const { url, headers } = moveCredentials(props.url, props.headers);
  const response = await boundedFetch(url, { method: props.method, headers, body: props.body }, props.timeout_ms, env.signal);
  if ('error' in response) {
    const reason = response.error === 'timeout' ? `timeout after ${props.timeout_ms} ms` : response.reason;
    return { ok: false, output: { status: null, latency_ms: elapsed(), body_excerpt: null, failures: [reason] } };
  }
  const { status, body } = response;
  const latency = elapsed();

  const failures = [
    ...statusFailures(status, props.expected_status),
    ...(props.max_latency_ms !== undefined && latency > props.max_latency_ms
      ? [`latency ${latency} ms exceeds max_latency_ms ${props.max_latency_ms}`]
      : []),
    ...textFailures('body', body, props.body_contains, props.body_matches),
  ];
  return { ok: failures.length === 0, output: { status, latency_ms: latency, body_excerpt: excerpt(body), failures } };
}

/** A response, its body read to the end and kept up to MAX_BODY_BYTES; or why there is none. */
export type BoundedResponse = { status: number; body: string } | { error: 'timeout' } | { error: 'network'; reason: string };

/**
 * One request that gives up after `timeoutMs`. A timeout or a network failure (refused, reset, DNS…) is what a probe
 * measures, so it comes back as an answer; only `signal` (cancelling the run) makes it throw, with the signal's reason.
 */
export async function boundedFetch(url: string | URL, init: Omit<RequestInit, 'signal'>, timeoutMs: number, signal: AbortSignal): Promise<BoundedResponse> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.any([signal, timeout]) });
    return { status: response.status, body: await readBody(response) };
  } catch (error) {
    signal.throwIfAborted();
    return timeout.aborted ? { error: 'timeout' } : { error: 'network', reason: requestFailure(error) };
  }
}

/** fetch refuses a URL with credentials in it; send them as Basic auth instead, as curl and browsers do. */
export function moveCredentials(url: string, headers: Record<string, string>): { url: string; headers: Record<string, string> } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url, headers };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  const explicit = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  return {
    url: parsed.href,
    headers: explicit ? headers : { ...headers, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
  };
}

export async function readBody(response: Response): Promise<string> {
  const capture = new BoundedCapture(MAX_BODY_BYTES);
  const reader = response.body?.getReader();
  if (reader) {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) capture.push(chunk.value);
  }
  return capture.text();
}

function statusFailures(status: number, expected: number | number[]): string[] {
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (allowed.includes(status)) return [];
  return [`status ${status}, expected ${allowed.length === 1 ? String(allowed[0]) : `one of ${allowed.join(', ')}`}`];
}

/** undici reports every network failure as `TypeError: fetch failed`; the socket error it wraps is the reason. */
export function requestFailure(error: unknown): string {
  const cause = socketError(error);
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  const label = code === undefined ? undefined : CONNECTION_ERRORS[code];
  const detail = cause?.message || (error instanceof Error ? error.message : String(error));
  return label ? `${label}: ${detail}` : `request failed: ${detail}`;
}

function socketError(error: unknown): Error | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  // A host with several addresses fails with one error per address (happy eyeballs); the first tells the story.
  const first: unknown = cause instanceof AggregateError ? cause.errors[0] : cause;
  return first instanceof Error ? first : undefined;
}
