/**
 * The embedded runtime: the whole control plane in one process, with no cloud. The same handlers and the same ASL
 * files as in AWS, wired to dynalite (DynamoDB), aws-local-stepfunctions (Step Functions) and an in-process event bus
 * (EventBridge). Its recovery sweep (`recover`) rolls back runs cut off by a crash; the CLI runs it at every start.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createHandlers } from '../functions/registry.js';
import type { FaultDriver } from '../shared/faults/driver.js';
import { DEFAULT_GUARDRAILS, type GuardrailConfig, type LifecycleDeps } from '../shared/lifecycle/deps.js';
import { describePlan, planInjection } from '../shared/lifecycle/guardrails.js';
import { findOrphans } from '../shared/lifecycle/recovery.js';
import type { JsonObject } from '../shared/journal/activity.js';
import type { ExperimentSpec } from '../shared/model/experiment.js';
import { isFinal, type ExperimentRecord } from '../shared/model/lifecycle.js';
import { errorMessage } from '../shared/errors.js';
import { parseExperiment } from '../shared/model/parse.js';
import { assertProbesAllowed } from '../shared/probes/index.js';
import { ExperimentStore } from '../shared/store/store.js';
import { claimDataDirectory, startDynalite, type LocalDynamo } from './dynamodb.js';
import { LocalEventBus } from './event-bus.js';
import { LocalStepFunctions, type Execution } from './step-functions.js';

export interface RuntimeOptions {
  /** Where dynalite keeps its data; `undefined` keeps everything in memory (tests, benchmarks). */
  dataDir?: string;
  drivers?: readonly FaultDriver[];
  guardrails?: Partial<GuardrailConfig>;
  tableName?: string;
  /** Count state transitions per experiment (benchmarks); see `stateTransitions`. */
  countTransitions?: boolean;
}

export interface RecoveryReport {
  recovered: { id: string; status: string }[];
}

export const DEFAULT_DATA_DIR = '.chaosduck';

export class ExecutionFailedError extends Error {
  override readonly name = 'ExecutionFailedError';
}

export class LocalRuntime {
  readonly runtimeId = `local-${randomUUID()}`;
  readonly bus = new LocalEventBus();
  readonly store: ExperimentStore;
  readonly deps: LifecycleDeps;
  private readonly sfn: LocalStepFunctions;
  private readonly executions = new Map<string, Execution>();

  private constructor(
    private readonly dynamo: LocalDynamo,
    options: RuntimeOptions,
    tableName: string,
  ) {
    this.store = new ExperimentStore({ client: dynamo.client, tableName });
    this.deps = {
      store: this.store,
      events: this.bus,
      drivers: new Map((options.drivers ?? []).map((driver) => [driver.provider, driver])),
      guardrails: { ...DEFAULT_GUARDRAILS, ...options.guardrails },
      runtime: 'local',
      runtimeId: this.runtimeId,
      clock: Date.now,
      random: Math.random,
    };
    this.sfn = new LocalStepFunctions(createHandlers(this.deps), { countTransitions: options.countTransitions });
  }

  /** The DynamoDB client the lifecycle uses (benchmarks count its calls). */
  get dynamoClient(): LocalDynamo['client'] {
    return this.dynamo.client;
  }

  static async start(options: RuntimeOptions = {}): Promise<LocalRuntime> {
    const tableName = options.tableName ?? 'chaosduck';
    const release = options.dataDir ? claimDataDirectory(options.dataDir) : () => undefined;
    try {
      const dynamo = await startDynalite(options.dataDir && join(options.dataDir, 'dynamodb'), tableName);
      return new LocalRuntime({ ...dynamo, close: () => dynamo.close().finally(release) }, options, tableName);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Validates, stores and starts an experiment; returns at once with its id and execution ARN. */
  async submit(input: unknown): Promise<{ id: string; executionArn: string }> {
    const spec = this.validate(input);
    const now = new Date().toISOString();
    const id = `exp-${randomUUID()}`;
    await this.store.createExperiment({ id, spec, status: 'pending', createdAt: now, updatedAt: now });
    const execution = this.startExecution(id, 'run', '');
    return { id, executionArn: execution.executionArn };
  }

  /** Runs an experiment to its end and returns the final record. */
  async run(input: unknown): Promise<ExperimentRecord> {
    const { id } = await this.submit(input);
    return this.waitFor(id);
  }

  /** The plan (targets, fault, rollback) after every guardrail, with nothing stored, leased or injected. */
  async dryRun(input: unknown): Promise<JsonObject> {
    const spec = this.validate(input);
    const plan = await planInjection(spec, this.deps, AbortSignal.timeout(30_000));
    const held = [];
    for (const step of plan.steps) {
      const lease = await this.store.getLease(`${step.target.provider}:${step.target.id}`);
      if (lease && lease.expiresAt > Date.now()) held.push({ target: step.target.id, holder: lease.holder });
    }
    return { dry_run: true, experiment: spec.name, ...describePlan(plan), leased_by_others: held };
  }

  /**
   * Waits until the experiment's execution has ended, then returns its record. An execution that failed without
   * finishing the record (its Finish task could not write, say) is an error: the experiment is left to the sweep.
   */
  async waitFor(id: string): Promise<ExperimentRecord> {
    let failure: unknown;
    await this.executions.get(id)?.result.catch((error: unknown) => (failure = error));
    const record = await this.store.getExperiment(id);
    if (failure !== undefined && !isFinal(record.status)) {
      throw new ExecutionFailedError(
        `the execution of experiment ${id} ended before finishing it (${errorMessage(failure)}); its rollback stack is kept, and the recovery sweep will roll it back`,
      );
    }
    return record;
  }

  /**
   * Stops a running experiment and rolls it back: its execution is stopped (with its child executions) and a new one
   * runs ROLLBACK and finishes the record.
   */
  async abort(id: string, reason: 'user_abort' | 'emergency_stop' = 'user_abort'): Promise<ExperimentRecord> {
    this.executions.get(id)?.abort();
    await this.executions.get(id)?.result.catch(() => undefined);
    this.startExecution(id, 'rollback', reason);
    return this.waitFor(id);
  }

  /** Rolls back every experiment still marked pending or running whose run is gone (this runtime is not running it). */
  async recover(): Promise<RecoveryReport> {
    // One runtime at a time holds the data directory, so any run it is not executing itself is gone.
    const orphans = await findOrphans(this.store, (record) => !this.executions.has(record.id));
    const recovered = await Promise.all(
      orphans.map(async (record) => {
        this.startExecution(record.id, 'rollback', 'recovered_after_crash');
        const done = await this.waitFor(record.id);
        return { id: done.id, status: done.status };
      }),
    );
    return { recovered };
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
    for (const execution of this.executions.values()) execution.abort();
    await Promise.allSettled([...this.executions.values()].map((e) => e.result));
    await this.sfn.drain(10_000);
    await this.dynamo.close();
  }

  private validate(input: unknown): ExperimentSpec {
    const spec = parseExperiment(input);
    assertProbesAllowed(spec.probes, 'local');
    return spec;
  }

  private startExecution(id: string, mode: 'run' | 'rollback', reason: string): Execution {
    const execution = this.sfn.start('experiment', { experimentId: id, mode, reason }, `${id}-${mode}-${Date.now()}`);
    this.executions.set(id, execution);
    void execution.result
      .catch(() => undefined)
      .finally(() => {
        if (this.executions.get(id) === execution) this.executions.delete(id);
      });
    return execution;
  }
}
