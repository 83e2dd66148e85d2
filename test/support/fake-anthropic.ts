/**
 * A FAKE Anthropic Messages API, for tests: a real HTTP server on loopback that the real `@anthropic-ai/sdk` talks
 * to through its `baseURL`. Each request to `POST /v1/messages` is answered by the next scripted reply, and recorded,
 * so a test can say what Claude answers (a tool call, malformed JSON, a 429 with `retry-after`, a 500, silence) and
 * check what was asked (the cached system prompt, the tools, the data).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  headers: IncomingMessage['headers'];
  body: {
    model: string;
    system: { type: string; text: string; cache_control?: { type: string } }[];
    tools: { name: string; input_schema: Record<string, unknown> }[];
    tool_choice: { type: string; name: string };
    messages: { role: string; content: unknown }[];
  };
}

/** What the fake answers one request with. */
export type Reply =
  | { toolCall: { name: string; input: unknown }; usage?: { input_tokens: number; output_tokens: number } }
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { raw: string }
  | { hang: true };

export interface FakeAnthropic {
  url: string;
  requests: RecordedRequest[];
  /** Queues replies, answered in order; a request with none queued gets a 500 naming the test's mistake. */
  reply(...replies: Reply[]): void;
  /** Forgets the requests and any replies left unasked. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  let count = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: req.url } }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'];
      requests.push({ headers: req.headers, body });
      const reply = queue.shift() ?? { status: 500, body: { type: 'error', error: { type: 'api_error', message: 'the fake has no reply queued for this request' } } };
      if ('hang' in reply) return; // never answered: the client's timeout decides
      if ('raw' in reply) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(reply.raw);
        return;
      }
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body ?? { type: 'error', error: { type: 'api_error', message: 'fake error' } }));
        return;
      }
      const id = `toolu_fake_${++count}`;
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_fake_${count}` }).end(
        JSON.stringify({
          id: `msg_fake_${count}`,
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [{ type: 'tool_use', id, name: reply.toolCall.name, input: reply.toolCall.input }],
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 1200, output_tokens: 300, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000, ...reply.usage },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    reply: (...replies) => queue.push(...replies),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
