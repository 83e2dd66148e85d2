/**
 * moto server for the AWS integration tests: the AWS implementations of the ports are tested over real HTTP.
 *
 * moto lives in a project-local virtualenv (`<repo>/.venv`, see python-venv.ts) created on first use.
 *
 * The server is started through the venv's Python with a lifeline on stdin: when this process goes away — however
 * it goes, SIGKILL included — the pipe closes and moto exits, so a crashed test run never leaves it behind.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './net.js';
import { ensureVenv, REPO_ROOT, VENV_SETUP_TIMEOUT_MS } from './python-venv.js';

export const MOTO_VERSION = '5.2.5';

const READY_TIMEOUT_MS = 30_000;

/** First use installs moto: give the hook that calls `startMoto` this long. */
export const MOTO_SETUP_TIMEOUT_MS = VENV_SETUP_TIMEOUT_MS;

export interface Moto {
  endpoint: string;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Dummy settings for an AWS SDK v3 client that talks to moto. */
export function motoClientConfig(endpoint: string) {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 };
}

/**
 * The same settings as environment variables, for code that builds its own SDK clients (the fault drivers, the
 * runtime, a CLI child process): they find moto the way every SDK client finds an endpoint.
 */
export function motoSdkEnv(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };
}

export async function startMoto(): Promise<Moto> {
  const python = await motoPython();
  let lastError: unknown;
  // The free port is only free when it is picked; if someone else takes it before moto binds it, try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(python, await freePort());
    } catch (error) {
      lastError = error;
      if (!(error instanceof EarlyExit)) throw error;
    }
  }
  throw lastError;
}

// ---- the virtualenv --------------------------------------------------------------------------------------------------

let venvPython: Promise<string> | undefined;
const motoPython = () => (venvPython ??= ensureVenv({ name: '.venv', packages: [`moto[server]==${MOTO_VERSION}`] }).then((venv) => venv.bin('python')));

// ---- the server ------------------------------------------------------------------------------------------------------

class EarlyExit extends Error {}

/** Runs moto's server and exits as soon as stdin closes, i.e. when the process that started it is gone. */
const SERVER_SCRIPT = `
import os, sys, threading
def lifeline():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)
threading.Thread(target=lifeline, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
`;

async function launch(python: string, port: number): Promise<Moto> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, ['-c', SERVER_SCRIPT, '-H', '127.0.0.1', '-p', String(port)], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // moto logs every request; keep the tail for error messages, and keep reading so the pipe never fills.
  let log = '';
  const collect = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const state = await Promise.race([exited.then((how) => ({ exited: how })), ping(endpoint).then((ok) => ({ ok }))]);
    if ('exited' in state) {
      process.off('exit', killOnExit);
      throw new EarlyExit(`moto server on port ${port} exited (${state.exited}) before answering:\n${log.trim()}`);
    }
    if (state.ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto server on ${endpoint} did not answer within ${READY_TIMEOUT_MS / 1000}s:\n${log.trim()}`);
    }
    await sleep(100);
  }

  return {
    endpoint,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status} ${await response.text()}`);
    },
    stop,
  };
}

async function ping(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

// ---- SQS, for watching what EventBridge delivers ---------------------------------------------------------------------

export interface MotoQueue {
  url: string;
  arn: string;
  /** Every message in the queue now: receives until a receive comes back empty. Received messages stay hidden. */
  drain(): Promise<string[]>;
}

/** A queue in moto, as an EventBridge rule target whose deliveries a test can read back. */
export async function createMotoQueue(endpoint: string, name: string): Promise<MotoQueue> {
  const sqs = new SQSClient(motoClientConfig(endpoint));
  const { QueueUrl: url = '' } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return {
    url,
    arn: Attributes?.QueueArn ?? '',
    async drain() {
      const bodies: string[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 300, WaitTimeSeconds: 0 }),
        );
        if (Messages.length === 0) return bodies;
        bodies.push(...Messages.map((m) => m.Body ?? ''));
      }
    },
  };
}

/**
 * Sets environment variables for a test file (`undefined` removes one) and returns what puts them back: how the AWS
 * tests point the SDK's own configuration (`AWS_ENDPOINT_URL…`, credentials, region) at moto.
 */
export function overrideEnv(values: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(values);
  return () => apply(saved);
}
