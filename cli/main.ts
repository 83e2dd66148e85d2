/**
 * `chaosduck`: run, validate and dry-run experiments on the embedded runtime (no cloud needed).
 *
 *   chaosduck run experiment.yaml            run it; prints every phase; writes journal.json
 *   chaosduck run --dry-run experiment.yaml  the plan only: targets, fault, rollback; nothing is injected
 *   chaosduck validate experiment.yaml       check the file; every bad field is named
 *   chaosduck recover                        roll back experiments a crashed run left behind
 *   chaosduck journal <id>                   print a stored journal
 *   chaosduck serve                          the REST API + WebSocket feed on http://127.0.0.1:8080
 */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ChaosDuckError, NotFoundError, ValidationError } from '../shared/errors.js';
import type { FaultDriver } from '../shared/faults/driver.js';
import { lazyDriver } from '../shared/faults/lazy-driver.js';
import { awsDriver } from '../shared/faults/aws/index.js';
import { awsClientFactory } from '../shared/faults/aws/clients.js';
import { kubeClientsByContext } from '../shared/faults/kubernetes/cluster.js';
import { createKubernetesDriver } from '../shared/faults/kubernetes/driver.js';
import { KUBERNETES_CHAOS_TYPES, type ExperimentSpec } from '../shared/model/experiment.js';
import type { ExperimentRecord } from '../shared/model/lifecycle.js';
import { parseExperiment } from '../shared/model/parse.js';
import { assertProbesAllowed } from '../shared/probes/index.js';
import { DataDirectoryInUseError } from '../local/dynamodb.js';
import { DEFAULT_DATA_DIR, ExecutionFailedError, LocalRuntime } from '../local/runtime.js';
import { createSandboxDriver } from '../local/sandbox/driver.js';
import { SANDBOX_PROVIDER, startSandbox, type Sandbox } from '../local/sandbox/sandbox.js';
import { loadOrCreateToken } from '../local/auth.js';
import { startServer } from '../local/server.js';
import { interpolate, readExperimentFile, requestedProvider } from './experiment-file.js';
import { formatEvent } from './progress.js';

const EXIT_OK = 0;
const EXIT_NOT_COMPLETED = 1;
const EXIT_INVALID = 2;
const EXIT_INTERRUPTED = 130;

interface RunOptions {
  dryRun: boolean;
  journal: string;
  dataDir: string;
  sandboxReplicas: number;
  sandboxPort: number;
}

const dataDirOption = new Option('--data-dir <dir>', 'where the embedded runtime keeps its data')
  .env('CHAOSDUCK_DATA_DIR')
  .default(DEFAULT_DATA_DIR);

const program = new Command('chaosduck').description('Chaos experiments with write-ahead, last-change-first rollback.');

program
  .command('run')
  .description('run an experiment file (JSON or YAML) on the embedded runtime')
  .argument('<file>', 'experiment file')
  .option('--dry-run', 'print the plan (targets, fault, rollback) and change nothing', false)
  .option('--journal <path>', 'where to write the journal', 'journal.json')
  .addOption(dataDirOption)
  .addOption(new Option('--sandbox-replicas <n>', 'replicas of the sandbox demo service').argParser(Number).default(3))
  .addOption(new Option('--sandbox-port <port>', 'port of the sandbox proxy (0: any free port)').env('CHAOSDUCK_SANDBOX_PORT').argParser(Number).default(0))
  .action(async (file: string, options: RunOptions) => {
    process.exitCode = await run(file, options);
  });

program
  .command('validate')
  .description('validate an experiment file; prints the experiment with every default filled in')
  .argument('<file>', 'experiment file')
  .action((file: string) => {
    const { spec } = loadExperiment(readExperimentFile(file));
    console.log(`${file}: valid ${spec.chaos_type} experiment "${spec.name}"`);
    console.log(JSON.stringify(spec, null, 2));
  });

program
  .command('recover')
  .description('roll back experiments that a crashed run left behind')
  .addOption(dataDirOption)
  .action(async ({ dataDir }: { dataDir: string }) => {
    const sandbox = new SandboxOnDemand({ replicas: 3, proxyPort: 0 });
    try {
      const runtime = await startRuntime(dataDir, [sandbox.driver]);
      await runtime.stop();
    } finally {
      await sandbox.stop();
    }
  });

program
  .command('serve')
  .description('serve the REST API and the WebSocket progress feed on the embedded runtime, with the sandbox')
  .addOption(dataDirOption)
  .addOption(new Option('--port <port>', 'port of the API').env('PORT').argParser(Number).default(8080))
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .addOption(new Option('--sandbox-replicas <n>', 'replicas of the sandbox demo service').argParser(Number).default(3))
  .addOption(new Option('--sandbox-port <port>', 'port of the sandbox proxy (0: any free port)').env('CHAOSDUCK_SANDBOX_PORT').argParser(Number).default(0))
  .action(async (options: { dataDir: string; port: number; host: string; sandboxReplicas: number; sandboxPort: number }) => {
    await serve(options);
  });

program
  .command('journal')
  .description("print a finished experiment's journal (Chaos Toolkit layout)")
  .argument('<experiment-id>', 'experiment id, as `run` prints it')
  .addOption(dataDirOption)
  .action(async (id: string, { dataDir }: { dataDir: string }) => {
    const runtime = await LocalRuntime.start({ dataDir: resolve(dataDir) });
    try {
      const journal = await runtime.journal(id);
      if (!journal) throw new NotFoundError(`no journal for experiment ${id} (not found, or not finished yet)`);
      console.log(JSON.stringify(journal, null, 2));
    } finally {
      await runtime.stop();
    }
  });

/**
 * Fills the file's placeholders and validates it. Until the sandbox runs, `${SANDBOX_URL}` stands for an address of
 * the right shape, so validation never needs the sandbox.
 */
function loadExperiment(document: unknown, sandboxUrl?: string): { input: unknown; spec: ExperimentSpec } {
  const values = sandboxUrl ? { ...process.env, SANDBOX_URL: sandboxUrl } : { SANDBOX_URL: 'http://127.0.0.1:1', ...process.env };
  const input = interpolate(document, values);
  const spec = parseExperiment(input);
  assertProbesAllowed(spec.probes, 'local');
  return { input, spec };
}

/**
 * The embedded runtime with the drivers a user may need: the sandbox (started on first use), AWS (through the SDK's
 * usual credentials, region and `AWS_ENDPOINT_URL`, e.g. moto or LocalStack), Kubernetes (the kubeconfig), and any
 * given. Then the recovery sweep.
 */
async function startRuntime(dataDir: string, drivers: FaultDriver[]): Promise<LocalRuntime> {
  const clients = awsClientFactory();
  // Kubernetes clients come from the kubeconfig (KUBECONFIG or ~/.kube/config; `target.cluster` names a context),
  // read on first use, so a machine without one only finds out if an experiment targets a cluster.
  // One resolver (and so one client cache) for the driver, the `k8s` probes and the topology routes.
  const kube = kubeClientsByContext();
  const kubernetes = createKubernetesDriver(kube);
  const runtime = await LocalRuntime.start({
    dataDir: resolve(dataDir),
    drivers: [...drivers, awsDriver(clients), kubernetes],
    aws: { clients, tagKey: process.env.CHAOS_TAG_KEY },
    kube,
  });
  const startedAt = Date.now();
  const unsubscribe = runtime.bus.subscribe({ type: ['experiment.started', 'rollback.step', 'experiment.finished'] }, (event) =>
    console.log(`recovery ${event.experimentId}: ${formatEvent(event, startedAt).trim()}`),
  );
  const { recovered } = await runtime.recover();
  unsubscribe();
  console.log(recovered.length > 0 ? `recovered ${recovered.length} experiment(s) left by a crashed run` : 'recovery sweep: nothing to recover');
  return runtime;
}

async function run(file: string, options: RunOptions): Promise<number> {
  const document = readExperimentFile(file);
  const sandbox = new SandboxOnDemand({ replicas: options.sandboxReplicas, proxyPort: options.sandboxPort });
  let runtime: LocalRuntime | undefined;
  try {
    // Validate first, so a bad file starts nothing; the sandbox's real address is known only once it runs.
    loadExperiment(document);
    let sandboxUrl: string | undefined;
    if (requestedProvider(document) === SANDBOX_PROVIDER) {
      sandboxUrl = (await sandbox.get()).url;
      console.log(`sandbox: ${options.sandboxReplicas} replicas of the demo service behind ${sandboxUrl}`);
    }
    const { input, spec } = loadExperiment(document, sandboxUrl);
    runtime = await startRuntime(options.dataDir, [sandbox.driver]);
    if (options.dryRun || spec.safety.dry_run) {
      console.log(JSON.stringify(await runtime.dryRun(input), null, 2));
      return EXIT_OK;
    }
    return await runToEnd(runtime, input, options.journal);
  } finally {
    await runtime?.stop();
    await sandbox.stop();
  }
}

/** The sandbox, started the first time something needs it (the experiment, or a recovery that reverts a sandbox fault). */
class SandboxOnDemand {
  private sandbox: Promise<Sandbox> | undefined;
  readonly driver: FaultDriver;

  constructor(private readonly options: { replicas: number; proxyPort: number }) {
    this.driver = lazyDriver(SANDBOX_PROVIDER, KUBERNETES_CHAOS_TYPES, async () => createSandboxDriver(await this.get()));
  }

  get(): Promise<Sandbox> {
    return (this.sandbox ??= startSandbox(this.options));
  }

  async stop(): Promise<void> {
    await (await this.sandbox?.catch(() => undefined))?.stop();
  }
}

async function serve(options: { dataDir: string; port: number; host: string; sandboxReplicas: number; sandboxPort: number }): Promise<void> {
  const sandbox = new SandboxOnDemand({ replicas: options.sandboxReplicas, proxyPort: options.sandboxPort });
  // Started up front so its address can be printed for experiment probes.
  const { url: sandboxUrl } = await sandbox.get();
  const runtime = await startRuntime(options.dataDir, [sandbox.driver]);
  const token = loadOrCreateToken(resolve(options.dataDir));
  const server = await startServer({ runtime, token, port: options.port, host: options.host });
  console.log(`ChaosDuck API   ${server.url}   (WebSocket ${server.url.replace(/^http/, 'ws')}/ws)`);
  console.log(`token           ${token}   (send as: Authorization: Bearer <token>)`);
  console.log(`sandbox         target {"provider": "sandbox", "labels": {"app": "demo"}}; service at ${sandboxUrl}`);
  runtime.bus.subscribe({ type: ['experiment.started', 'experiment.finished'] }, (event) =>
    console.log(`${event.at}  ${event.experimentId}  ${event.type}${event.detail.status ? ` ${String(event.detail.status)}` : ''}`),
  );
  await new Promise<void>((done) => {
    const shutdown = () => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      done();
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
  console.log('shutting down: rolling back running experiments');
  await server.close();
  await rollBackAll(runtime);
  await runtime.stop();
  await sandbox.stop();
}

/** Leaves nothing injected behind on a clean shutdown. */
async function rollBackAll(runtime: LocalRuntime): Promise<void> {
  const active = [...(await runtime.store.listByStatus('running')).items, ...(await runtime.store.listByStatus('pending')).items];
  await Promise.allSettled(active.map((record) => runtime.abort(record.id, 'server_shutdown')));
}

async function runToEnd(runtime: LocalRuntime, input: unknown, journalPath: string): Promise<number> {
  const startedAt = Date.now();
  const unsubscribe = runtime.bus.subscribe({}, (event) => console.log(formatEvent(event, startedAt)));
  const { id, executionArn } = await runtime.submit(input);
  console.log(`experiment ${id}\nexecution  ${executionArn}`);

  // Ctrl-C stops the experiment and rolls it back; a second Ctrl-C leaves at once, and the recovery sweep of the
  // next start finishes the rollback from the stack in the data directory.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT_INTERRUPTED);
    interrupted = true;
    console.log('\ninterrupted: stopping the experiment and rolling back (Ctrl-C again to leave now)');
    void runtime.abort(id, 'user_abort');
  };
  process.on('SIGINT', onSigint);
  let record: ExperimentRecord;
  try {
    record = await runtime.waitFor(id);
  } finally {
    process.off('SIGINT', onSigint);
    unsubscribe();
  }
  const journal = await runtime.journal(id);
  if (journal) {
    writeFileSync(journalPath, `${JSON.stringify(journal, null, 2)}\n`);
    console.log(`journal    ${resolve(journalPath)}`);
  }
  console.log(`status     ${record.status}${record.deviated ? ' (deviated)' : ''} — ${record.reason ?? ''}`);
  if (record.error) console.log(`error      ${record.error}`);
  if (interrupted) return EXIT_INTERRUPTED;
  return record.status === 'completed' && !record.deviated ? EXIT_OK : EXIT_NOT_COMPLETED;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ValidationError) {
    console.error(error.issues.length > 1 || error.issues[0]?.field ? 'invalid experiment:' : 'invalid input:');
    for (const issue of error.issues) console.error(`  ${issue.field || '(file)'}: ${issue.message}`);
    process.exitCode = EXIT_INVALID;
  } else if (error instanceof ChaosDuckError || error instanceof DataDirectoryInUseError || error instanceof ExecutionFailedError) {
    console.error(`${error.name}: ${error.message}`);
    process.exitCode = EXIT_NOT_COMPLETED;
  } else {
    throw error;
  }
}
