/**
 * The contract between the state machines and the task handlers: what each Task state passes in. Handlers parse
 * their input with these schemas, so a malformed definition or a hand-started execution fails with a named field.
 */
import * as z from 'zod';
import { chaosToolkitSpecSchema, experimentSchema, storedSpecSchema, type ExperimentSpec } from '../model/experiment.js';

/**
 * The spec as Begin read it from the record: a valid experiment (defaults filled in), or else one stored under older,
 * looser bounds, checked for what the lifecycle relies on, so that it can still run to its end and be rolled back.
 * Neither: the full schema's issues, field by field.
 */
const travellingSpec = z.unknown().transform((value, ctx): ExperimentSpec => {
  const chaosToolkit = (value as { format?: unknown } | null)?.format === 'chaostoolkit';
  const full = (chaosToolkit ? chaosToolkitSpecSchema : experimentSchema).safeParse(value);
  if (full.success) return full.data;
  const stored = storedSpecSchema.safeParse(value);
  if (stored.success) return stored.data;
  for (const issue of full.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [...issue.path] });
  return z.NEVER;
});

/** The experiment as it travels through the state machines, set once by Begin. */
export const experimentRefSchema = z.object({
  id: z.string().min(1),
  spec: travellingSpec,
  /** Epoch ms: past this, the experiment has overrun `safety.timeout_seconds`. */
  deadline: z.number(),
  /** Backstops for the Task states that run child executions (Step Functions needs a number). */
  phaseTimeoutSeconds: z.number().int().min(1),
  rollbackTimeoutSeconds: z.number().int().min(1),
  /** `rollback` when this execution is a rollback run (abort, emergency stop, recovery), which Begin already marked. */
  mode: z.enum(['run', 'rollback']).default('run'),
  /**
   * The orchestrator execution running the experiment, set by Begin: every task's log lines carry it as `execution`.
   * Absent in an execution begun before it travelled here.
   */
  executionArn: z.string().optional(),
});
export type ExperimentRef = z.infer<typeof experimentRefSchema>;

export const beginInputSchema = z.object({
  experimentId: z.string().min(1),
  mode: z.enum(['run', 'rollback']),
  reason: z.string(),
  executionArn: z.string().min(1),
});
export type BeginInput = z.infer<typeof beginInputSchema>;

export const phaseInputSchema = z.object({ experiment: experimentRefSchema });
export type PhaseInput = z.infer<typeof phaseInputSchema>;

/**
 * Where INJECT is in the method, between its invocations (the state machine waits out each pause in a Wait state):
 * the next activity, whether its pause before has been waited, what is left of a pause being waited in steps (to
 * check the hypothesis between them), when the hypothesis was last checked.
 */
export const injectStateSchema = z.object({
  next: z.number().int().min(0).default(0),
  pausedBefore: z.boolean().default(false),
  pauseLeft: z.number().min(0).default(0),
  lastCheck: z.number().optional(),
  iterations: z.number().int().min(0).default(0),
  /** The declared rollbacks are on the stack (written ahead of the method's first action). */
  declaredPushed: z.boolean().default(false),
  injected: z.number().int().min(0).default(0),
  /** `--fail-fast` stopped the method: the hypothesis did not hold while it ran. */
  halted: z.boolean().default(false),
  done: z.boolean().default(false),
  waitSeconds: z.number().int().min(0).default(0),
});
export type InjectState = z.infer<typeof injectStateSchema>;

export const injectInputSchema = phaseInputSchema.extend({ inject: injectStateSchema.default(injectStateSchema.parse({})) });
export type InjectInput = z.infer<typeof injectInputSchema>;

export const observeStateSchema = z.object({
  tick: z.number().int().min(0).default(0),
  consecutiveFailures: z.number().int().min(0).default(0),
  failedTicks: z.number().int().min(0).default(0),
  startedAt: z.number().optional(),
  endsAt: z.number().optional(),
  done: z.boolean().default(false),
  deviated: z.boolean().default(false),
  /** A probe of the final check failed to run (Chaos Toolkit tells an error apart from a miss). */
  errored: z.boolean().default(false),
  waitSeconds: z.number().int().min(0).default(0),
});
export type ObserveState = z.infer<typeof observeStateSchema>;

export const observeInputSchema = phaseInputSchema.extend({ observe: observeStateSchema.default(observeStateSchema.parse({})) });
export type ObserveInput = z.infer<typeof observeInputSchema>;

/** A caught error as Step Functions hands it to the next state. */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof caughtErrorSchema>;

/**
 * The error behind a caught one. Step Functions wraps a failed child execution as `States.TaskFailed` with the
 * child's description as JSON in `Cause`, and a Lambda error's `Cause` is JSON with `errorType`; unwrap both.
 */
export function rootError(caught: CaughtError): { name: string; message: string } {
  let name = caught.Error;
  let cause: unknown = caught.Cause ?? '';
  for (let depth = 0; depth < 5 && typeof cause === 'string'; depth++) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(cause);
    } catch {
      break;
    }
    if (!parsed || typeof parsed !== 'object') break;
    const p = parsed as Record<string, unknown>;
    const inner = p.Error ?? p.error ?? p.errorType;
    if (typeof inner !== 'string') break;
    name = inner;
    cause = p.Cause ?? p.cause ?? p.errorMessage ?? '';
  }
  return { name, message: typeof cause === 'string' ? cause : JSON.stringify(cause) };
}

/** How the run went so far: what Finish decides the status from, and ROLLBACK a Chaos Toolkit rollback strategy. */
export const runOutcomeSchema = z.object({
  mode: z.enum(['run', 'rollback']),
  reason: z.string(),
  steadyState: z.object({ met: z.boolean(), errored: z.boolean().optional() }).optional(),
  injection: z.object({ injected: z.number(), halted: z.boolean().optional() }).optional(),
  observation: z.object({ deviated: z.boolean(), errored: z.boolean().optional() }).optional(),
  failure: caughtErrorSchema.optional(),
});
export type RunOutcome = z.infer<typeof runOutcomeSchema>;

export const rollbackInputSchema = phaseInputSchema.extend({ outcome: runOutcomeSchema.optional() });
export type RollbackInput = z.infer<typeof rollbackInputSchema>;

/** Finish receives the whole orchestrator state. */
export const finishInputSchema = runOutcomeSchema.extend({
  experiment: experimentRefSchema,
  rollback: z.object({ failed: z.array(z.number()) }).optional(),
  rollbackFailure: caughtErrorSchema.optional(),
});
export type FinishInput = z.infer<typeof finishInputSchema>;
