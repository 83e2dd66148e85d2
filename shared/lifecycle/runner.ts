/**
 * Starting and stopping experiment executions: Step Functions in AWS (StartExecution / StopExecution on the
 * orchestrator), the embedded runtime locally. The API, the emergency-stop fan-out and the recovery sweep use this
 * port, so they are the same code in both places.
 */
export type RunMode = 'run' | 'rollback';

export interface ExecutionRunner {
  /** Starts the orchestrator for an experiment; `rollback` mode goes straight to ROLLBACK and Finish. */
  start(experimentId: string, mode: RunMode, reason: string): Promise<{ executionArn: string }>;
  /** Stops an execution (and the child executions it started); stopping one that has ended is fine. */
  stop(executionArn: string, cause: string): Promise<void>;
  /** Whether the execution is still going (one that never existed is not). */
  isRunning(executionArn: string): Promise<boolean>;
}
