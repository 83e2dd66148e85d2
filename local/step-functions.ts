/**
 * Runs the ASL files with aws-local-stepfunctions. Each Task is bound by its Resource, as Step Functions binds it:
 * a `chaosduck-<name>` Lambda ARN runs the same handler Lambda runs, and `states:startExecution.sync:2` runs the
 * child state machine locally and answers the way Step Functions does (`Output` parsed; a failed child surfaces as
 * `States.TaskFailed` with the child's error and cause as JSON in `Cause`).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import type { FunctionName } from '../functions/registry.js';
import type { TaskHandler } from '../shared/lifecycle/handler.js';
import {
  MACHINE_NAMES,
  functionArnKey,
  loadDefinition,
  machineArnKey,
  type AslDefinition,
  type MachineName,
} from '../statemachines/definitions.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';
export const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:chaosduck-${name}`;
export const stateMachineArn = (name: MachineName) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:chaosduck-${name}`;
const executionArn = (name: MachineName, id: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:chaosduck-${name}:${id}`;

type Json = Parameters<StateMachine['run']>[0];

/** How a failed child execution reaches its parent's Catch, as in Step Functions. */
class ChildExecutionFailed extends Error {
  override readonly name = 'States.TaskFailed';
}

/** The state machines' definitions with this runtime's ARNs for `functions` and the machines. */
export function localDefinitions(functions: readonly FunctionName[]): Map<MachineName, AslDefinition> {
  const substitutions: Record<string, string> = {};
  for (const name of functions) substitutions[functionArnKey(name)] = functionArn(name);
  for (const name of MACHINE_NAMES) substitutions[machineArnKey(name)] = stateMachineArn(name);
  return new Map(MACHINE_NAMES.map((name) => [name, loadDefinition(name, substitutions)]));
}

export interface Execution {
  executionArn: string;
  result: Promise<Json>;
  /** Stops the execution and every child execution it started. */
  abort(): void;
}

export class LocalStepFunctions {
  private readonly machines = new Map<MachineName, { machine: StateMachine; tasks: Record<string, (input: Json) => Promise<Json>> }>();
  private readonly children = new Map<string, Set<Execution>>();
  /** State transitions (what Step Functions bills) per top-level execution, children included; only when counting. */
  private readonly transitions = new Map<string, number>();
  private readonly rootOf = new Map<string, string>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly handlers: Record<FunctionName, TaskHandler<unknown>>,
    private readonly options: { countTransitions?: boolean } = {},
  ) {
    for (const [name, definition] of localDefinitions(Object.keys(handlers) as FunctionName[])) {
      // The definitions are this repository's own files, checked as ASL by test/statemachines/asl.test.ts: validating
      // them again at every start (ajv compiling the ASL schema) would cost more than half a second a command.
      this.machines.set(name, { machine: new StateMachine(definition as never, { validationOptions: { noValidate: true } }), tasks: this.bindTasks(definition) });
    }
  }

  start(name: MachineName, input: Json, id: string = randomUUID(), parent?: string): Execution {
    const entry = this.machines.get(name);
    if (!entry) throw new Error(`unknown state machine ${name}`);
    const arn = executionArn(name, id);
    const run = entry.machine.run(input, {
      overrides: { taskResourceLocalHandlers: entry.tasks },
      context: { Execution: { Id: arn, Name: id, Input: input, StartTime: new Date().toISOString() } } as never,
    });
    const children = new Set<Execution>();
    this.children.set(arn, children);
    if (this.options.countTransitions) void this.count(arn, parent, run.eventLogs);
    const execution: Execution = {
      executionArn: arn,
      // A finished child leaves its parent's set: a long experiment must not hold every phase it has run.
      result: run.result.finally(() => {
        this.children.delete(arn);
        if (parent) this.children.get(parent)?.delete(execution);
      }),
      abort: () => {
        run.abort();
        for (const child of children) child.abort();
      },
    };
    if (parent) this.children.get(parent)?.add(execution);
    // The caller awaits `result`; this keeps an unawaited abort from surfacing as an unhandled rejection.
    execution.result.catch(() => undefined);
    return execution;
  }

  /**
   * Waits (up to `timeoutMs`) for task handlers still running. An aborted execution stops at once, but a handler it
   * had started goes on — as a Lambda invocation does after StopExecution — and must finish before DynamoDB goes away.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, deadline - Date.now()))]);
    }
  }

  /** Keeps count of a running task; its failure is handled here too, since an aborted execution no longer awaits it. */
  private track<T>(task: Promise<T>): Promise<T> {
    this.inFlight.add(task);
    task.then(
      () => this.inFlight.delete(task),
      () => this.inFlight.delete(task),
    );
    return task;
  }

  /** Transitions of a finished top-level execution and all its children (needs `countTransitions`). */
  stateTransitions(executionArn: string): number {
    return this.transitions.get(executionArn) ?? 0;
  }

  private async count(arn: string, parent: string | undefined, events: AsyncIterable<{ type: string }>): Promise<void> {
    const root = (parent && this.rootOf.get(parent)) || parent || arn;
    this.rootOf.set(arn, root);
    for await (const event of events) {
      if (event.type === 'StateEntered') this.transitions.set(root, (this.transitions.get(root) ?? 0) + 1);
    }
    this.rootOf.delete(arn);
  }

  private bindTasks(definition: AslDefinition): Record<string, (input: Json) => Promise<Json>> {
    const byArn = new Map(Object.entries(this.handlers).map(([name, handler]) => [functionArn(name), { name, handler }]));
    const tasks: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      const resource = String(state.Resource);
      const fn = byArn.get(resource);
      if (fn) {
        tasks[stateName] = (input) => this.track(fn.handler(input, lambdaContext(fn.name)) as Promise<Json>);
      } else if (resource === START_EXECUTION_SYNC) {
        tasks[stateName] = (input) => this.track(this.runChild(input as { StateMachineArn: string; Input: Record<string, Json> }));
      } else {
        throw new Error(`Task ${stateName}: no local binding for resource ${resource}`);
      }
    }
    return tasks;
  }

  private async runChild(input: { StateMachineArn: string; Input: Record<string, Json> }): Promise<Json> {
    const name = MACHINE_NAMES.find((m) => stateMachineArn(m) === input.StateMachineArn);
    if (!name) throw new Error(`unknown child state machine ${input.StateMachineArn}`);
    const parent = String(input.Input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID ?? '');
    const child = this.start(name, input.Input, randomUUID(), parent);
    const startDate = Date.now();
    try {
      const output = await child.result;
      return { ExecutionArn: child.executionArn, Status: 'SUCCEEDED', StartDate: startDate, StopDate: Date.now(), Output: output };
    } catch (error) {
      const root = error instanceof Error && error.cause instanceof Error ? error.cause : (error as Error);
      throw new ChildExecutionFailed(
        JSON.stringify({ ExecutionArn: child.executionArn, Status: 'FAILED', Error: root.name, Cause: root.message }),
      );
    }
  }
}

/**
 * The Lambda context a local invocation gets. It deliberately has no `getRemainingTimeInMillis`: middy shares one
 * AbortController across invocations, so its early-timeout race would let one slow local task abort all the others.
 * Timeouts are enforced by the state machines' TimeoutSeconds instead.
 */
function lambdaContext(name: string): Context {
  return {
    functionName: `chaosduck-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(name),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/local/chaosduck-${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
  } as Context;
}
