/**
 * The sandbox's front door: an HTTP proxy that round-robins over the ready replicas and injects the network faults.
 * Fault rules target one replica each and carry their own expiry, so a fault outlives no crashed control plane by
 * more than its duration (the proxy itself dies with the process that started it).
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Upstream {
  id: string;
  port: number;
}

interface RuleBase {
  id: string;
  /** The replica id (`replica-3`) whose traffic the rule hits. */
  replica: string;
  /** Epoch ms after which the rule no longer applies. */
  expiresAt: number;
}
export type LatencyRule = RuleBase & { kind: 'latency'; latencyMs: number; jitterMs: number };
export type LossRule = RuleBase & { kind: 'loss'; lossPercent: number };
export type ProxyFaultRule = LatencyRule | LossRule;

export interface ProxyOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Asked on every request, so replicas that come and go are picked up at once; keep it cheap (e.g. cached). */
  upstreams: () => readonly Upstream[];
  random?: () => number;
}

export interface SandboxProxy {
  url: string;
  port: number;
  /** Adds the rule, or replaces the one with the same id. */
  addRule(rule: ProxyFaultRule): void;
  /** False when no such rule was active: removing is idempotent. */
  removeRule(id: string): boolean;
  /** Rules still in force, optionally only those for one replica. */
  rules(replica?: string): ProxyFaultRule[];
  close(): Promise<void>;
}

/** Response header naming the replica that served a request. */
export const REPLICA_HEADER = 'x-chaosduck-replica';

/** The upstream failed before it answered, so another replica may take the request. */
class UpstreamUnreachable extends Error {}

/** Connection handling is per hop: each side of the proxy manages its own. */
function endToEnd<T extends Record<string, unknown>>(headers: T): T {
  const copy = { ...headers };
  for (const name of ['connection', 'keep-alive', 'proxy-connection', 'upgrade']) delete copy[name];
  return copy;
}

export async function startProxy({ port = 0, upstreams, random = Math.random }: ProxyOptions): Promise<SandboxProxy> {
  // Indexed both ways, so a request, an apply or a revert costs the same with 1000 rules as with one.
  const rules = new Map<string, ProxyFaultRule>();
  const rulesByReplica = new Map<string, Map<string, ProxyFaultRule>>();
  // No keep-alive: a pooled socket to a replica that was just killed would only add a failure mode.
  const agent = new Agent({ keepAlive: false });
  let turn = 0;

  const deleteRule = (rule: ProxyFaultRule): void => {
    rules.delete(rule.id);
    const forReplica = rulesByReplica.get(rule.replica);
    forReplica?.delete(rule.id);
    if (forReplica?.size === 0) rulesByReplica.delete(rule.replica);
  };

  /** Rules in force, all or one replica's; expired ones met on the way are dropped. */
  const activeRules = (replica?: string): ProxyFaultRule[] => {
    const now = Date.now();
    const candidates = replica === undefined ? rules.values() : (rulesByReplica.get(replica)?.values() ?? []);
    const active: ProxyFaultRule[] = [];
    for (const rule of [...candidates]) {
      if (rule.expiresAt <= now) deleteRule(rule);
      else active.push(rule);
    }
    return active;
  };

  const forward = (upstream: Upstream, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> =>
    new Promise((resolve, reject) => {
      const headers = { ...endToEnd(req.headers), host: `127.0.0.1:${upstream.port}` };
      const outgoing = request(
        { host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers, agent },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, { ...endToEnd(upstreamRes.headers), [REPLICA_HEADER]: upstream.id });
          pipeline(upstreamRes, res).then(resolve, () => {
            res.destroy();
            resolve();
          });
        },
      );
      outgoing.once('error', (error) => {
        if (!res.headersSent) reject(new UpstreamUnreachable(error.message));
      });
      outgoing.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const candidates = upstreams();
    const start = turn++;
    for (let attempt = 0; attempt < candidates.length; attempt++) {
      const upstream = candidates[(start + attempt) % candidates.length] as Upstream;
      const replicaRules = activeRules(upstream.id);
      if (replicaRules.some((rule) => rule.kind === 'loss' && random() * 100 < rule.lossPercent)) {
        // Lost: no answer at all, which is what packet loss looks like to an HTTP client.
        req.socket.destroy();
        return;
      }
      const delayMs = replicaRules.reduce(
        (sum, rule) => (rule.kind === 'latency' ? sum + Math.max(0, rule.latencyMs + (random() * 2 - 1) * rule.jitterMs) : sum),
        0,
      );
      if (delayMs > 0) await sleep(delayMs);
      if (res.destroyed) return;
      try {
        await forward(upstream, req, body, res);
        return;
      } catch (error) {
        if (!(error instanceof UpstreamUnreachable)) throw error;
      }
    }
    res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no ready replica' }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    addRule: (rule) => {
      const existing = rules.get(rule.id);
      if (existing) deleteRule(existing);
      const copy = { ...rule };
      rules.set(copy.id, copy);
      let forReplica = rulesByReplica.get(copy.replica);
      if (!forReplica) rulesByReplica.set(copy.replica, (forReplica = new Map()));
      forReplica.set(copy.id, copy);
    },
    removeRule: (id) => {
      const rule = rules.get(id);
      if (!rule) return false;
      deleteRule(rule);
      return rule.expiresAt > Date.now();
    },
    rules: (replica) => activeRules(replica).map((rule) => ({ ...rule })),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
