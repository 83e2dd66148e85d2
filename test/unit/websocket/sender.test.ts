/**
 * The AWS sender against a stand-in for API Gateway's Management API on loopback (real HTTP, the real SDK client):
 * a post reaches `POST /@connections/{id}`, and a 410 GoneException is the answer `gone`, not an error.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGatewaySender } from '../../../shared/websocket/sender.js';

let server: Server;
let client: ApiGatewayManagementApiClient;
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = decodeURIComponent(req.url ?? '');
      received.push({ path, body: Buffer.concat(chunks).toString('utf8') });
      if (path.endsWith('/gone-one')) {
        res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
        res.end(JSON.stringify({ message: null }));
      } else if (path.endsWith('/broken')) {
        res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'ForbiddenException' });
        res.end(JSON.stringify({ message: 'Forbidden' }));
      } else {
        res.writeHead(200).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new ApiGatewayManagementApiClient({
    endpoint: `http://127.0.0.1:${port}/local`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('API Gateway sender', () => {
  it('posts the data to the connection', async () => {
    // Act
    const result = await apiGatewaySender(client).post('abc=', '{"type":"phase.started"}');

    // Assess
    expect(result).toBe('sent');
    expect(received.at(-1)).toEqual({ path: '/local/@connections/abc=', body: '{"type":"phase.started"}' });
  });

  it('answers gone for a connection API Gateway reports gone (410), and throws any other failure', async () => {
    // Act
    const gone = await apiGatewaySender(client).post('gone-one', '{}');
    const broken = await apiGatewaySender(client).post('broken', '{}').catch((e: unknown) => e);

    // Assess
    expect(gone).toBe('gone');
    expect((broken as Error).name).toBe('ForbiddenException');
  });
});
