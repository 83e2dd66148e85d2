/**
 * `chaosduck`: run, validate and dry-run experiments on the embedded runtime (no cloud needed).
 *
 *   chaosduck run experiment.yaml            run it; prints every phase; writes journal.json
 *   chaosduck run --dry-run experiment.yaml  the plan only: targets, fault, rollback; nothing is injected
 *   chaosduck validate experiment.yaml       check the file; every bad field is named
 *   chaosduck recover                        roll back experiments a crashed run left behind
 *   chaosduck journal <id>                   print a stored journal
 *   chaosduck serve                          the REST API + WebSocket feed on http://127.0.0.1:8080
 *   chaosduck dashboard --api <RestApiUrl>   a deployed stack's dashboard on 127.0.0.1, signed with your AWS credentials
 */
import { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ChaosDuckError, ConfigurationError, ConflictError, NotFoundError, ValidationError, errorMessage } from '../shared/errors.js';
import type { FaultDriver } from '../shared/faults/driver.js';
import type { KubeClientResolver } from '../shared/faults/kubernetes/cluster.js';
import { lazyDriver } from '../shared/faults/lazy-driver.js';
import { AWS_CHAOS_TYPES, DRY_MODES, HYPOTHESIS_STRATEGIES, isChaosToolkitSpec, KUBERNETES_CHAOS_TYPES, ROLLBACK_STRATEGIES, type ExperimentSpec } from '../shared/model/experiment.js';
import type { JsonObject } from '../shared/journal/activity.js';
import { chaosToolkitSettings, type ChaosToolkitOptions } from './chaostoolkit.js';
import { chaosToolkitWarnings } from '../shared/ctk/spec.js';
import type { ExperimentRecord } from '../shared/model/lifecycle.js';
import { guardrailsFromEnv, parseInteger } from '../shared/lifecycle/config.js';
import { validateExperiment } from '../shared/lifecycle/control.js';
import { isChaosToolkitDocument } from '../shared/ctk/validate.js';
// The runtime, the drivers and their SDKs are loaded by the commands that run experiments, when they run: `validate`
// (and `--help`, `--version`) load the model only.
import type { LocalRuntime } from '../local/runtime.js';
import type { Sandbox } from '../local/sandbox/sandbox.js';
import type { LocalServer } from '../local/server.js';
import type { DashboardOptions } from './dashboard.js';
import { DEFAULT_DATA_DIR, SANDBOX_PROVIDER } from '../local/defaults.js';
import { interpolate, readExperimentFile, requestedProvider } from './experiment-file.js';
import { watchInterrupts, type Interruption } from './interrupt.js';
import { formatEvent } from './progress.js';
import { registerAnalysisCommands } from './analysis.js';

const EXIT_OK = 0;
const EXIT_NOT_COMPLETED = 1;
const EXIT_INVALID = 2;
const EXIT_INTERRUPTED = 130;
/** What a refused file exits with: 2, or 1 for a Chaos Toolkit file (as `chaos run` and `chaos validate` exit). */
let invalidExitCode = EXIT_INVALID;
const collect = (value: string, previous: string[]) => [...previous, value];
/** The runtime's own errors a user should read as a message, not a stack (by name: the runtime loads lazily). */
const LOCAL_RUNTIME_ERRORS = ['DataDirectoryInUseError', 'ExecutionFailedError'];

interface RunOptions extends ChaosToolkitOptions {
  dryRun: boolean;
  junit?: string;
  output: 'text' | 'json';
  journal: string;
  journalPath?: string;
  dataDir: string;
  sandboxReplicas: number;
  sandboxPort: number;
}

const dataDirOption = new Option('--data-dir <dir>', 'where the embedded runtime keeps its data')
  .env('CHAOSDUCK_DATA_DIR')
  .default(DEFAULT_DATA_DIR);

/** A whole-number option, parsed strictly: `--port abc` (or `PORT=abc`) stops the command naming the option. */
const integerOption = (flags: string, description: string, { min, max, env, fallback }: { min: number; max: number; env?: string; fallback: number }) => {
  const option = new Option(flags, description).default(fallback);
  if (env) option.env(env);
  const name = `${option.long ?? flags}${env ? ` (${env})` : ''}`;
  return option.argParser((value: string) => parseInteger(value, name, { min, max }));
};
const sandboxReplicasOption = () => integerOption('--sandbox-replicas <n>', 'replicas of the sandbox demo service', { min: 1, max: 1000, fallback: 3 });
const sandboxPortOption = () =>
  integerOption('--sandbox-port <port>', 'port of the sandbox proxy (0: any free port)', { min: 0, max: 65_535, env: 'CHAOSDUCK_SANDBOX_PORT', fallback: 0 });

const program = new Command('chaosduck')
  .description('Chaos experiments with write-ahead, last-change-first rollback.')
  .version(packageVersion(), '-V, --version', 'print the version');

program
  .command('run')
  .description('run an experiment file (JSON or YAML) on the embedded runtime')
  .argument('<file>', 'experiment file')
  .option('--dry-run', 'print the plan (targets, fault, rollback) and change nothing', false)
  .option('--journal <path>', 'where to write the journal', 'journal.json')
  .option('--journal-path <path>', 'the same as --journal, as chaos run spells it')
  .option('--var <name[:type]=value>', 'Chaos Toolkit: a configuration value (type: str, int, float, bytes); repeatable', collect, [])
  .option('--var-file <path>', 'Chaos Toolkit: configuration and secrets from a JSON/YAML file, or a .env file; repeatable', collect, [])
  .addOption(new Option('--rollback-strategy <strategy>', 'Chaos Toolkit: when the declared rollbacks play (default: whenever a method action started)').choices(ROLLBACK_STRATEGIES))
  .addOption(new Option('--hypothesis-strategy <strategy>', 'Chaos Toolkit: when the steady-state hypothesis is checked').choices([...HYPOTHESIS_STRATEGIES, 'continously']))
  .option('--hypothesis-frequency <seconds>', 'Chaos Toolkit: seconds between checks while the method runs (default 1)')
  .option('--fail-fast', 'Chaos Toolkit: stop the method the first time the hypothesis does not hold while it runs', false)
  .addOption(new Option('--dry <what>', 'Chaos Toolkit: run without executing these').choices(DRY_MODES))
  .option('--junit <path>', 'also write the outcome as JUnit XML, for CI pipelines')
  .addOption(new Option('--output <format>', 'json: print one verdict object on stdout (progress goes to stderr)').choices(['text', 'json']).default('text'))
  .addOption(dataDirOption)
  .addOption(sandboxReplicasOption())
  .addOption(sandboxPortOption())
  .action(async (file: string, options: RunOptions) => {
    // With --output json, stdout carries the verdict alone: everything else this command prints goes to stderr.
    if (options.output === 'json') console.log = console.error;
    process.exitCode = await run(file, options);
  });

program
  .command('validate')
  .description('validate an experiment file (ChaosDuck or Chaos Toolkit format); every problem is named')
  .argument('<file>', 'experiment file')
  .action((file: string) => {
    const document = readExperimentFile(file);
    if (isChaosToolkitDocument(document)) {
      invalidExitCode = EXIT_NOT_COMPLETED;
      validateExperiment(document, { runtime: 'local', guardrails: guardrailsFromEnv() });
      console.log(`${file}: experiment syntax and semantic look valid (Chaos Toolkit format)`);
      return;
    }
    const { spec } = loadExperiment(document);
    console.log(`${file}: valid ${isChaosToolkitSpec(spec) ? 'Chaos Toolkit' : spec.chaos_type} experiment "${spec.name}"`);
    // The sandbox's address is only known once it runs: its placeholder is shown as written.
    console.log(JSON.stringify(spec, null, 2).replaceAll(SANDBOX_URL_STAND_IN, '${SANDBOX_URL}'));
  });

program
  .command('recover')
  .description('roll back experiments that a crashed run left behind')
  .addOption(dataDirOption)
  .action(async ({ dataDir }: { dataDir: string }) => {
    const sandbox = new SandboxOnDemand({ replicas: 3, proxyPort: 0 });
    // The sweep is a rollback: a signal waits for it, as it does for a run's.
    const interruption = watchInterrupts(STILL_ROLLING_BACK);
    try {
      const runtime = await startRuntime(dataDir, [sandbox.driver]);
      await runtime.stop();
    } finally {
      await sandbox.stop();
      interruption.dispose();
    }
    process.exitCode = interruption.exitCode() ?? process.exitCode;
  });

program
  .command('serve')
  .description('serve the REST API and the WebSocket progress feed on the embedded runtime, with the sandbox')
  .addOption(dataDirOption)
  .addOption(integerOption('--port <port>', 'port of the API (0: any free port)', { min: 0, max: 65_535, env: 'PORT', fallback: 8080 }))
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .addOption(sandboxReplicasOption())
  .addOption(sandboxPortOption())
  .action(async (options: { dataDir: string; port: number; host: string; sandboxReplicas: number; sandboxPort: number }) => {
    process.exitCode = await serve(options);
  });

program
  .command('dashboard')
  .description('the dashboard of a deployed stack, on 127.0.0.1: every call it makes signed with your AWS credentials (SigV4)')
  .requiredOption('--api <url>', 'the REST API URL: the stack output RestApiUrl (https://<id>.execute-api.<region>.amazonaws.com/v1/)')
  .option('--ws <url>', 'the WebSocket URL: the stack output WebSocketUrl (wss://…), for live progress')
  .option('--region <region>', "the AWS region, when the API's host does not name it (a custom domain name)")
  .addOption(integerOption('--port <port>', 'port of the dashboard on 127.0.0.1 (0: any free port)', { min: 0, max: 65_535, fallback: 8081 }))
  .action(async (options: DashboardOptions) => {
    const { dashboard } = await import('./dashboard.js');
    process.exitCode = await dashboard(options);
  });

program
  .command('journal')
  .description("print a finished experiment's journal (Chaos Toolkit layout)")
  .argument('<experiment-id>', 'experiment id, as `run` prints it')
  .addOption(dataDirOption)
  .action(async (id: string, { dataDir }: { dataDir: string }) => {
    const { LocalRuntime } = await import('../local/runtime.js');
    const runtime = await LocalRuntime.start({ dataDir: resolve(dataDir) });
    try {
      const journal = await runtime.journal(id);
      if (!journal) throw new NotFoundError(`no journal for experiment ${id} (not found, or not finished yet)`);
      console.log(JSON.stringify(journal, null, 2));
    } finally {
      await runtime.stop();
    }
  });

registerAnalysisCommands(program, { dataDirOption, startRuntime, sandbox: () => new SandboxOnDemand({ replicas: 3, proxyPort: 0 }) });

/** What `${SANDBOX_URL}` stands for until the sandbox runs: an address of the right shape, reserved so none is real. */
const SANDBOX_URL_STAND_IN = 'http://sandbox.invalid';

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * Fills the file's placeholders and validates it as the runtime will (the model, the probes this runtime runs, the
 * guards that need no target: timeout cap, protected namespaces, the production rule from the environment). Until
 * the sandbox runs, `${SANDBOX_URL}` has a stand-in, so validation never needs the sandbox.
 */
function loadExperiment(document: unknown, sandboxUrl?: string): { input: unknown; spec: ExperimentSpec } {
  const values = sandboxUrl ? { ...process.env, SANDBOX_URL: sandboxUrl } : { SANDBOX_URL: SANDBOX_URL_STAND_IN, ...process.env };
  const input = interpolate(document, values);
  return { input, spec: validateExperiment(input, { runtime: 'local', guardrails: guardrailsFromEnv() }) };
}

/**
 * The embedded runtime with the drivers a user may need: the sandbox (started on first use), AWS (through the SDK's
 * usual credentials, region and `AWS_ENDPOINT_URL`, e.g. moto or LocalStack), Kubernetes (the kubeconfig), and any
 * given. Then the recovery sweep (unless `sweep` is false: commands that only read). AWS and Kubernetes are loaded
 * when an experiment, a probe or a topology request first needs them, so a run that uses neither does not pay for
 * loading their SDKs.
 */
async function startRuntime(dataDir: string, drivers: FaultDriver[], { sweep = true }: { sweep?: boolean } = {}): Promise<LocalRuntime> {
  const [{ LocalRuntime }, { earlierStoreNotice }] = await Promise.all([import('../local/runtime.js'), import('../local/data-directory.js')]);
  // Kubernetes clients come from the kubeconfig (KUBECONFIG or ~/.kube/config; `target.cluster` names a context),
  // read on first use, so a machine without one only finds out if an experiment targets a cluster.
  // One resolver (and so one client cache) for the driver, the `k8s` probes and the topology routes.
  let kubernetes: Promise<{ resolve: KubeClientResolver; driver: FaultDriver }> | undefined;
  const kubernetesAccess = () =>
    (kubernetes ??= (async () => {
      const [{ kubeClientsByContext }, { createKubernetesDriver }, { RecoveryWatches }] = await Promise.all([
        import('../shared/faults/kubernetes/cluster.js'),
        import('../shared/faults/kubernetes/driver.js'),
        import('../shared/faults/kubernetes/recovery-watch.js'),
      ]);
      const resolve = kubeClientsByContext();
      // This process lives on after each fault is applied, so it can watch deleted pods come back.
      return { resolve, driver: createKubernetesDriver(resolve, { recoveryWatches: new RecoveryWatches() }) };
    })());
  const aws = lazyDriver('aws', AWS_CHAOS_TYPES, async () => {
    const [{ awsDriver }, { awsClientFactory }] = await Promise.all([import('../shared/faults/aws/index.js'), import('../shared/faults/aws/clients.js')]);
    return awsDriver(awsClientFactory());
  });
  const notice = earlierStoreNotice(resolve(dataDir));
  if (notice) console.error(notice);
  const runtime = await LocalRuntime.start({
    dataDir: resolve(dataDir),
    guardrails: guardrailsFromEnv(),
    drivers: [...drivers, aws, lazyDriver('kubernetes', KUBERNETES_CHAOS_TYPES, async () => (await kubernetesAccess()).driver)],
    aws: { tagKey: process.env.CHAOS_TAG_KEY },
    kube: async (cluster) => (await kubernetesAccess()).resolve(cluster),
  });
  if (!sweep) return runtime;
  const startedAt = Date.now();
  const unsubscribe = runtime.bus.subscribe({ type: ['rollback.started', 'rollback.step', 'experiment.finished'] }, (event) =>
    console.log(`recovery ${event.experimentId}: ${formatEvent(event, startedAt).trim()}`),
  );
  const { recovered, unreadable } = await runtime.recover();
  unsubscribe();
  console.log(recovered.length > 0 ? `recovered ${recovered.length} experiment(s) left by a crashed run` : 'recovery sweep: nothing to recover');
  for (const key of unreadable) console.error(`recovery sweep: the stored experiment ${key} cannot be read, and may stand for a fault still in place; look at it`);
  return runtime;
}

const STILL_ROLLING_BACK = 'still rolling back, waiting for it to finish so that nothing stays injected (SIGKILL leaves now; the next start then finishes the rollback)';

async function run(file: string, options: RunOptions): Promise<number> {
  const document = readExperimentFile(file);
  if (isChaosToolkitDocument(document)) return runChaosToolkit(document, options);
  // Validate first, so a bad file starts nothing; the sandbox's real address is known only once it runs.
  loadExperiment(document);
  return runExperiment(
    options,
    async (sandbox) => {
      let sandboxUrl: string | undefined;
      if (requestedProvider(document) === SANDBOX_PROVIDER) {
        sandboxUrl = (await sandbox.get()).url;
        console.log(`sandbox: ${options.sandboxReplicas} replicas of the demo service behind ${sandboxUrl}`);
      }
      return loadExperiment(document, sandboxUrl);
    },
    ({ record }) => (record.status === 'completed' && !record.deviated ? EXIT_OK : EXIT_NOT_COMPLETED),
  );
}

/**
 * A Chaos Toolkit file, run as `chaos run` runs it, with `chaos run`'s exit code: 0 only when it completed without
 * deviating. One more way to fail, for safety: a fault whose automatic rollback failed may still be in place.
 */
async function runChaosToolkit(document: unknown, options: RunOptions): Promise<number> {
  invalidExitCode = EXIT_NOT_COMPLETED; // `chaos run` exits 1 on a file it refuses
  const input = { format: 'chaostoolkit', experiment: document, settings: chaosToolkitSettings(options) };
  const spec = validateExperiment(input, { runtime: 'local', guardrails: guardrailsFromEnv() });
  for (const warning of chaosToolkitWarnings(document as JsonObject)) console.warn(`warning: ${warning}`);
  // A built-in sandbox fault in the method starts the sandbox when the run first needs it (its driver is lazy).
  return runExperiment(
    options,
    async () => ({ input, spec }),
    ({ record, journal }) => {
      const status = String(journal?.status ?? record.status);
      const deviated = journal?.deviated === true;
      console.log(`chaos toolkit status: ${status}${deviated ? ' (deviated)' : ''}`);
      // A failed declared rollback does not change chaos run's exit code; a fault whose own rollback failed does here.
      const failed = ((journal?.chaosduck as JsonObject | undefined)?.failed_rollbacks ?? []) as { action?: string }[];
      const faultsLeft = failed.filter((entry) => entry.action !== 'declared_rollback').length;
      return status === 'completed' && !deviated && faultsLeft === 0 ? EXIT_OK : EXIT_NOT_COMPLETED;
    },
  );
}

/**
 * Runs a validated experiment on the embedded runtime: its dry run, or the run to its end, whose exit code `verdict`
 * gives. A signal from the first moment on stops cleanly: nothing new starts, and whatever was injected is rolled back
 * first (the exit code is then the signal's).
 */
async function runExperiment(
  options: RunOptions,
  load: (sandbox: SandboxOnDemand) => Promise<{ input: unknown; spec: ExperimentSpec }>,
  verdict: (ended: { record: ExperimentRecord; journal: JsonObject | undefined }) => number,
): Promise<number> {
  const sandbox = new SandboxOnDemand({ replicas: options.sandboxReplicas, proxyPort: options.sandboxPort });
  const interruption = watchInterrupts(STILL_ROLLING_BACK);
  let runtime: LocalRuntime | undefined;
  try {
    const { input, spec } = await load(sandbox);
    if (!interruption.signal) runtime = await startRuntime(options.dataDir, [sandbox.driver]);
    if (!runtime || interruption.signal) {
      console.log(`\ninterrupted (${interruption.signal}) before the experiment started: nothing was injected`);
      return interruption.exitCode() ?? EXIT_INTERRUPTED;
    }
    if (options.dryRun || spec.safety.dry_run) {
      console.log(JSON.stringify(await runtime.dryRun(input), null, 2));
      return EXIT_OK;
    }
    const journalPath = options.journalPath ?? options.journal;
    const ended = await runToEnd(runtime, input, journalPath, interruption);
    const verdictCode = verdict(ended);
    const code = interruption.signal ? (interruption.exitCode() ?? EXIT_INTERRUPTED) : verdictCode;
    await report(ended, { ...options, journalPath, exitCode: code }, runtime);
    return code;
  } finally {
    await runtime?.stop();
    await sandbox.stop();
    interruption.dispose();
  }
}

/** What `--junit` and `--output json` ask for, once the experiment has ended. */
async function report(
  { record, journal }: { record: ExperimentRecord; journal: JsonObject | undefined },
  options: { junit?: string; output: 'text' | 'json'; journalPath: string; exitCode: number },
  runtime: LocalRuntime,
): Promise<void> {
  if (options.junit && journal) {
    const { junitXml } = await import('../shared/journal/junit.js');
    writeFileSync(options.junit, junitXml([journal]));
    console.log(`junit      ${resolve(options.junit)}`);
  }
  if (options.output === 'json') {
    const score = await runtime.store.getScore(record.id);
    const verdict = {
      experiment_id: record.id,
      name: record.spec.name,
      format: isChaosToolkitSpec(record.spec) ? 'chaostoolkit' : 'chaosduck',
      status: String(journal?.status ?? record.status),
      deviated: journal?.deviated === true || record.deviated === true,
      reason: record.reason ?? null,
      error: record.error ?? null,
      resilience_score: score?.score ?? null,
      started_at: record.startedAt ?? record.createdAt,
      ended_at: record.endedAt ?? null,
      journal: journal ? resolve(options.journalPath) : null,
      ...(options.junit ? { junit: resolve(options.junit) } : {}),
      exit_code: options.exitCode,
    };
    process.stdout.write(`${JSON.stringify(verdict)}\n`);
  }
}

/** The sandbox, started the first time something needs it (the experiment, or a recovery that reverts a sandbox fault). */
class SandboxOnDemand {
  private sandbox: Promise<Sandbox> | undefined;
  readonly driver: FaultDriver;

  constructor(private readonly options: { replicas: number; proxyPort: number }) {
    this.driver = lazyDriver(SANDBOX_PROVIDER, KUBERNETES_CHAOS_TYPES, async () => {
      const { createSandboxDriver } = await import('../local/sandbox/driver.js');
      return createSandboxDriver(await this.get());
    });
  }

  get(): Promise<Sandbox> {
    return (this.sandbox ??= import('../local/sandbox/sandbox.js').then(({ startSandbox }) => startSandbox(this.options)));
  }

  async stop(): Promise<void> {
    await (await this.sandbox?.catch(() => undefined))?.stop();
  }
}

/** Serves until a signal; then stops taking requests, rolls back what runs, and returns the signal's exit code. */
async function serve(options: { dataDir: string; port: number; host: string; sandboxReplicas: number; sandboxPort: number }): Promise<number> {
  const sandbox = new SandboxOnDemand({ replicas: options.sandboxReplicas, proxyPort: options.sandboxPort });
  const interruption = watchInterrupts(STILL_ROLLING_BACK);
  let runtime: LocalRuntime | undefined;
  let server: LocalServer | undefined;
  try {
    // Started up front so its address can be printed for experiment probes, and the topology routes show it.
    const running = await sandbox.get();
    if (!interruption.signal) runtime = await startRuntime(options.dataDir, [sandbox.driver]);
    if (!runtime || interruption.signal) return interruption.exitCode() ?? EXIT_INTERRUPTED;
    const [{ loadOrCreateToken }, { startServer }] = await Promise.all([import('../local/auth.js'), import('../local/server.js')]);
    const token = loadOrCreateToken(resolve(options.dataDir));
    server = await startServer({ runtime, token, port: options.port, host: options.host, sandbox: running });
    console.log(`ChaosDuck API   ${server.url}   (WebSocket ${server.url.replace(/^http/, 'ws')}/ws)`);
    console.log(`dashboard       ${server.url}/   (open it in a browser; log in with the token below)`);
    console.log(`token           ${token}   (send as: Authorization: Bearer <token>)`);
    console.log(`sandbox         target {"provider": "sandbox", "labels": {"app": "demo"}}; service at ${running.url}`);
    runtime.bus.subscribe({ type: ['experiment.started', 'rollback.started', 'experiment.finished'] }, (event) =>
      console.log(`${event.at}  ${event.experimentId}  ${event.type}${event.detail.status ? ` ${String(event.detail.status)}` : ''}${event.detail.reason ? ` (${String(event.detail.reason)})` : ''}`),
    );
    const signal = await interruption.received;
    console.log(`\n${signal}: shutting down; rolling back running experiments first`);
    // Nothing new may start behind the list of what to roll back: refuse submissions, wait for those in flight.
    await runtime.refuseNewExperiments();
    await server.close();
    server = undefined;
    const rolledBack = await runtime.rollBackAll('interrupted');
    console.log(rolledBack.length > 0 ? `rolled back ${rolledBack.map((r) => `${r.id} (${r.status})`).join(', ')}` : 'nothing was running');
    return interruption.exitCode() ?? EXIT_INTERRUPTED;
  } finally {
    await server?.close();
    await runtime?.stop();
    await sandbox.stop();
    interruption.dispose();
  }
}

async function runToEnd(
  runtime: LocalRuntime,
  input: unknown,
  journalPath: string,
  interruption: Interruption,
): Promise<{ record: ExperimentRecord; journal: JsonObject | undefined }> {
  const startedAt = Date.now();
  const unsubscribe = runtime.bus.subscribe({}, (event) => console.log(formatEvent(event, startedAt)));
  let record: ExperimentRecord;
  try {
    const { id, executionArn } = await runtime.submit(input);
    console.log(`experiment ${id}\nexecution  ${executionArn}`);
    // A signal stops the experiment and rolls it back; the abort returns once the rollback run has ended. An abort
    // that fails leaves the record to waitFor below (and the stack to the next start's sweep).
    const aborted = interruption.received.then(async (signal) => {
      console.log(`\ninterrupted (${signal}): stopping the experiment and rolling it back`);
      return runtime.abort(id, 'interrupted').catch((error: unknown) => {
        if (!(error instanceof ConflictError)) console.error(`the rollback could not be started: ${errorMessage(error)}`);
        return undefined;
      });
    });
    const ended = await runtime.waitFor(id).catch((error: unknown) => {
      // The run cut off by the abort may end before the rollback run has been started: the abort's record follows.
      if (interruption.signal) return undefined;
      throw error;
    });
    record = (interruption.signal ? await aborted : undefined) ?? ended ?? (await runtime.waitFor(id));
  } finally {
    unsubscribe();
  }
  const { id } = record;
  const journal = await runtime.journal(id);
  if (journal) {
    writeFileSync(journalPath, `${JSON.stringify(journal, null, 2)}\n`);
    console.log(`journal    ${resolve(journalPath)}`);
  }
  console.log(`status     ${record.status}${record.deviated ? ' (deviated)' : ''} — ${record.reason ?? ''}`);
  if (record.error) console.log(`error      ${record.error}`);
  const score = await runtime.store.getScore(id);
  if (score) {
    const { steady_state, hypothesis, recovery, rollback } = score.components;
    console.log(`resilience ${score.score}/100 (steady state ${steady_state}, hypothesis ${hypothesis}, recovery ${recovery}, rollback ${rollback})`);
  }
  return { record, journal };
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ValidationError) {
    console.error(error.issues.length > 1 || error.issues[0]?.field ? 'invalid experiment:' : 'invalid input:');
    for (const issue of error.issues) console.error(`  ${issue.field || '(file)'}: ${issue.message}`);
    process.exitCode = invalidExitCode;
  } else if (error instanceof ConfigurationError) {
    console.error(`${error.name}: ${error.message}`);
    process.exitCode = EXIT_INVALID;
  } else if (error instanceof ChaosDuckError || (error instanceof Error && LOCAL_RUNTIME_ERRORS.includes(error.name))) {
    console.error(`${error.name}: ${error.message}`);
    process.exitCode = EXIT_NOT_COMPLETED;
  } else {
    throw error;
  }
}
