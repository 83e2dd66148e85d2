/**
 * The contract between the state machines and the task handlers: what each Task state passes in. Handlers parse
 * their input with these schemas, so a malformed definition or a hand-started execution fails with a named field.
 */
import * as z from 'zod';
import { experimentSchema, storedSpecSchema, type ExperimentSpec } from '../model/experiment.js';

/**
 * The spec as Begin read it from the record: a valid experiment (defaults filled in), or else one stored under older,
 * looser bounds, checked for what the lifecycle relies on, so that it can still run to its end and be rolled back.
 * Neither: the full schema's issues, field by field.
 */
const travellingSpec = z.unknown().transform((value, ctx): ExperimentSpec => {
  const full = experimentSchema.safeParse(value);
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

export const observeStateSchema = z.object({
  tick: z.number().int().min(0).default(0),
  consecutiveFailures: z.number().int().min(0).default(0),
  failedTicks: z.number().int().min(0).default(0),
  startedAt: z.number().optional(),
  endsAt: z.number().optional(),
  done: z.boolean().default(false),
  deviated: z.boolean().default(false),
  waitSeconds: z.number().int().min(0).default(0),
});
export type ObserveState = z.infer<typeof observeStateSchema>;

export const observeInputSchema = phaseInputSchema.extend({ observe: observeStateSchema.default(observeStateSchema.parse({})) });
export type ObserveInput = z.infer<typeof observeInputSchema>;

/** A caught error as Step Functions hands it to the next state. */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof caughtErrorSchema>;

/** Finish receives the whole orchestrator state. */
export const finishInputSchema = z.object({
  experiment: experimentRefSchema,
  mode: z.enum(['run', 'rollback']),
  reason: z.string(),
  steadyState: z.object({ met: z.boolean() }).optional(),
  observation: z.object({ deviated: z.boolean() }).optional(),
  failure: caughtErrorSchema.optional(),
  rollback: z.object({ failed: z.array(z.number()) }).optional(),
  rollbackFailure: caughtErrorSchema.optional(),
});
export type FinishInput = z.infer<typeof finishInputSchema>;
