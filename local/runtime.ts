/**
 * The embedded runtime: the whole control plane in one process, with no cloud. The same handlers and the same ASL
 * files as in AWS, wired to SQLite (in place of DynamoDB, `.chaosduck/chaosduck.db`), aws-local-stepfunctions (Step
 * Functions) and an in-process event bus (EventBridge). Its recovery sweep (`recover`) rolls back runs cut off by a crash; the CLI runs it at every start.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createHandlers } from '../functions/registry.js';
import type { FaultDriver } from '../shared/faults/driver.js';
import { DEFAULT_GUARDRAILS, type GuardrailConfig, type LifecycleDeps } from '../shared/lifecycle/deps.js';
import { findOrphans, listActive } from '../shared/lifecycle/recovery.js';
import type { JsonObject } from '../shared/journal/activity.js';
import { isFinal, type ExperimentRecord } from '../shared/model/lifecycle.js';
import { ShuttingDownError, errorMessage } from '../shared/errors.js';
import type { EmergencyStop } from '../shared/store/store.js';
import type { ConnectionStore } from '../shared/websocket/connections.js';
import {
  dryRun,
  fanOutEmergencyStop,
  liftEmergencyStop,
  raiseEmergencyStop,
  requestRollback,
  submitExperiment,
  type ControlBus,
  type ControlDeps,
  type SubmitOptions,
  type Submitted,
} from '../shared/lifecycle/control.js';
import type { ExecutionRunner, RunMode } from '../shared/lifecycle/runner.js';
import { claimDataDirectory } from './data-directory.js';
import { DATABASE_FILE, openDatabase, type Database } from './sqlite/database.js';
import { SqliteConnectionStore } from './sqlite/connections.js';
import { SqliteStore } from './sqlite/store.js';
import { LocalEventBus } from './event-bus.js';
import type { TopologySources } from '../functions/api/core.js';
import type { AwsClientFactory } from '../shared/faults/aws/clients.js';
import type { KubeClientResolver } from '../shared/faults/kubernetes/cluster.js';
import type { Analyst } from '../shared/analysis/analyst.js';
import { analystFromEnv } from '../shared/analysis/configure.js';
import { LocalStepFunctions, type Execution } from './step-functions.js';

export interface RuntimeOptions {
  /** Where the runtime keeps its data (`chaosduck.db`); `undefined` keeps everything in memory (tests, benchmarks). */
  dataDir?: string;
  drivers?: readonly FaultDriver[];
  guardrails?: Partial<GuardrailConfig>;
  /** Count state transitions per experiment (benchmarks); see `stateTransitions`. */
  countTransitions?: boolean;
  /**
   * AWS access for the topology routes (targets tagged `<tagKey>=true`); without it they answer 404. `clients` (also
   * for CloudWatch alarm probes) defaults to the SDK's usual configuration, loaded when first used.
   */
  aws?: { clients?: AwsClientFactory; tagKey?: string };
  /**
   * Kubernetes access for the topology routes and `k8s` probes (`cluster` names a kubeconfig context); without it the
   * k8s topology route answers 404 and probes read the default kubeconfig.
   */
  kube?: KubeClientResolver;
  /**
   * Who answers analysis questions and states the HYPOTHESIS phase's prediction for `ai_enabled` experiments: Claude
   * when `ANTHROPIC_API_KEY` is set, the offline rules otherwise.
   */
  analyst?: Analyst;
}

export interface RecoveryReport {
  recovered: { id: string; status: string }[];
  /** Keys of active experiment records that cannot be read: a person has to look at them. */
  unreadable: string[];
}

export { DEFAULT_DATA_DIR } from './defaults.js';

export class ExecutionFailedError extends Error {
  override readonly name = 'ExecutionFailedError';
}

export class LocalRuntime {
  readonly runtimeId = `local-${randomUUID()}`;
  readonly bus = new LocalEventBus();
  readonly store: SqliteStore;
  /** Who answers analysis questions (and predicts in HYPOTHESIS): Claude when configured, the rules otherwise. */
  readonly analyst: Analyst;
  /** The WebSocket gateway's connections and subscriptions. */
  readonly connections: ConnectionStore;
  readonly deps: LifecycleDeps;
  private readonly ports: { runner: ExecutionRunner; control: ControlBus };
  readonly topology: TopologySources;
  private readonly sfn: LocalStepFunctions;
  /** Running executions by ARN, and each experiment's latest one. */
  private readonly executions = new Map<string, Execution>();
  private readonly latest = new Map<string, Execution>();
  private readonly fanOuts = new Set<Promise<unknown>>();
  private readonly submissions = new Set<Promise<unknown>>();
  private closing = false;

  private constructor(
    private readonly db: Database,
    private readonly release: () => void,
    options: RuntimeOptions,
  ) {
    this.store = new SqliteStore(db);
    this.analyst = options.analyst ?? analystFromEnv();
    this.connections = new SqliteConnectionStore(db);
    this.deps = {
      store: this.store,
      events: this.bus,
      drivers: new Map((options.drivers ?? []).map((driver) => [driver.provider, driver])),
      guardrails: { ...DEFAULT_GUARDRAILS, ...options.guardrails },
      runtime: 'local',
      runtimeId: this.runtimeId,
      clock: Date.now,
      random: Math.random,
      ...(options.aws?.clients ? { aws: options.aws.clients } : {}),
      ...(options.kube ? { kube: options.kube } : {}),
      ...(this.analyst.source === 'claude' ? { predict: (spec, rules) => this.analyst.predict(spec, rules) } : {}),
    };
    // Executions run here, and a raised emergency stop fans out here, with the same fan-out code the AWS rule runs.
    const runner: ExecutionRunner = {
      start: (id, mode, reason) => Promise.resolve(this.startExecution(id, mode, reason)),
      stop: (executionArn) => this.stopExecution(executionArn),
      isRunning: async (executionArn) => this.executions.has(executionArn),
    };
    const control: ControlBus = { emergencyStopRaised: async () => this.fanOut() };
    this.ports = { runner, control };
    this.sfn = new LocalStepFunctions(createHandlers(this.deps), { countTransitions: options.countTransitions });
    const aws = options.aws && { ...options.aws };
    const kube = options.kube;
    // The AWS SDK and the Kubernetes client are loaded by the first topology request, not with the runtime.
    this.topology = {
      ...(aws
        ? {
            aws: async (region: string | undefined) => {
              const [{ awsTopology }, { awsClientFactory }] = await Promise.all([import('../shared/faults/aws/topology.js'), import('../shared/faults/aws/clients.js')]);
              return awsTopology((aws.clients ??= awsClientFactory()), { region, tagKey: aws.tagKey });
            },
          }
        : {}),
      ...(kube ? { k8s: async (cluster: string | undefined) => (await import('../shared/faults/kubernetes/topology.js')).kubernetesTopology(kube, { cluster }) } : {}),
    };
  }

  /** What the control operations need: the lifecycle's deps as they are now (tests swap `random`), and the ports. */
  get control(): ControlDeps & { control: ControlBus } {
    return { ...this.deps, ...this.ports };
  }

  static async start(options: RuntimeOptions = {}): Promise<LocalRuntime> {
    const release = options.dataDir ? claimDataDirectory(options.dataDir) : () => undefined;
    try {
      return new LocalRuntime(openDatabase(options.dataDir && join(options.dataDir, DATABASE_FILE)), release, options);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Validates, plans (refusing what the run would refuse), stores and starts an experiment; returns at once with its
   * id and execution ARN.
   */
  async submit(input: unknown, idempotencyKey?: string, options?: SubmitOptions): Promise<Submitted> {
    if (this.closing) throw new ShuttingDownError('this control plane is shutting down and rolling back; submit the experiment again once it is back');
    const submission = submitExperiment(input, this.control, idempotencyKey, options);
    this.submissions.add(submission);
    return submission.finally(() => this.submissions.delete(submission));
  }

  /** Runs an experiment to its end and returns the final record. */
  async run(input: unknown, options?: SubmitOptions): Promise<ExperimentRecord> {
    const { id } = await this.submit(input, undefined, options);
    return this.waitFor(id);
  }

  /** The plan (targets, fault, rollback) after every guardrail, with nothing stored, leased or injected. */
  async dryRun(input: unknown): Promise<JsonObject> {
    return dryRun(input, this.deps);
  }

  /**
   * Waits until the experiment's execution has ended, then returns its record. An execution that failed without
   * finishing the record (its Finish task could not write, say) is an error: the experiment is left to the sweep.
   */
  async waitFor(id: string): Promise<ExperimentRecord> {
    let failure: unknown;
    // A rollback run may replace the run while we wait: wait for whichever is latest until none is left.
    for (let execution = this.latest.get(id); execution; ) {
      failure = undefined;
      await execution.result.catch((error: unknown) => (failure = error));
      const next = this.latest.get(id);
      execution = next === execution ? undefined : next;
    }
    const record = await this.store.getExperiment(id);
    if (failure !== undefined && !isFinal(record.status)) {
      throw new ExecutionFailedError(
        `the execution of experiment ${id} ended before finishing it (${errorMessage(failure)}); its rollback stack is kept, and the recovery sweep will roll it back`,
      );
    }
    return record;
  }

  /** Stops a running experiment and rolls it back, then returns its final record. */
  async abort(id: string, reason = 'user_abort'): Promise<ExperimentRecord> {
    await requestRollback(id, reason, this.control);
    return this.waitFor(id);
  }

  /** Raises the emergency stop: new experiments are refused, and every running one is stopped and rolled back. */
  async emergencyStop(reason = ''): Promise<EmergencyStop> {
    return raiseEmergencyStop(reason, this.control);
  }

  async liftEmergencyStop(): Promise<EmergencyStop> {
    return liftEmergencyStop(this.control);
  }

  /** Resolves once every emergency-stop fan-out started so far has handed each experiment to its rollback run. */
  async settleFanOuts(): Promise<void> {
    await Promise.allSettled([...this.fanOuts]);
  }

  /** Rolls back every experiment still marked pending or running whose run is gone (this runtime is not running it). */
  async recover(): Promise<RecoveryReport> {
    // One runtime at a time holds the data directory, so any run it is not executing itself is gone.
    const { orphans, corrupt } = await findOrphans(this.store, (record) => !this.latest.has(record.id));
    const recovered = await Promise.all(
      orphans.map(async (record) => {
        this.startExecution(record.id, 'rollback', 'recovered_after_crash');
        const done = await this.waitFor(record.id);
        return { id: done.id, status: done.status };
      }),
    );
    return { recovered, unreadable: corrupt.map((error) => error.key) };
  }

  /**
   * Stops taking experiments (submissions are refused with `ShuttingDownError`) and waits for the submissions in
   * flight, so that what is active can then be listed once and rolled back, with nothing starting behind it.
   */
  async refuseNewExperiments(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.submissions]);
  }

  /** Rolls back every pending or running experiment, each to its end; returns their final records. */
  async rollBackAll(reason: string): Promise<ExperimentRecord[]> {
    const { records } = await listActive(this.store);
    const results = await Promise.allSettled(records.map((record) => this.abort(record.id, reason)));
    return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }

  /** State transitions the experiment's executions took so far, children included (needs `countTransitions`). */
  async stateTransitions(id: string): Promise<number> {
    const record = await this.store.getExperiment(id);
    return record.executionArn ? this.sfn.stateTransitions(record.executionArn) : 0;
  }

  async journal(id: string): Promise<JsonObject | undefined> {
    return this.store.getJournal(id);
  }

  /** Stops the runtime. Runs still going are cut off; the recovery sweep of the next start rolls them back. */
  async stop(): Promise<void> {
    await this.settleFanOuts();
    for (const execution of this.executions.values()) execution.abort();
    await Promise.allSettled([...this.executions.values()].map((e) => e.result));
    await this.sfn.drain(10_000);
    this.store.close();
    this.db.close();
    this.release();
  }

  private startExecution(experimentId: string, mode: RunMode, reason: string): { executionArn: string } {
    const execution = this.sfn.start('experiment', { experimentId, mode, reason }, `${experimentId}-${mode}-${Date.now()}`);
    this.executions.set(execution.executionArn, execution);
    this.latest.set(experimentId, execution);
    void execution.result
      .catch(() => undefined)
      .finally(() => {
        this.executions.delete(execution.executionArn);
        if (this.latest.get(experimentId) === execution) this.latest.delete(experimentId);
      });
    return { executionArn: execution.executionArn };
  }

  private async stopExecution(executionArn: string): Promise<void> {
    const execution = this.executions.get(executionArn);
    if (!execution) return;
    execution.abort();
    await execution.result.catch(() => undefined);
  }

  private fanOut(): void {
    const fanOut = fanOutEmergencyStop(this.control);
    this.fanOuts.add(fanOut);
    void fanOut
      .catch((error: unknown) => console.error('emergency-stop fan-out failed:', error))
      .finally(() => this.fanOuts.delete(fanOut));
  }
}
