import * as z from 'zod';
import { ValidationError, fieldIssues, type FieldIssue } from '../errors.js';
import { CHAOS_TYPES, experimentCommonFields, experimentSchema, type FaultSpec } from './experiment.js';

/** The largest experiment accepted, as JSON with its defaults: far below a DynamoDB item (400 KB) or a state (256 KB). */
export const MAX_EXPERIMENT_BYTES = 64 * 1024;

/** The fields every experiment has, checked even when `chaos_type` is unknown, so one typo does not hide the rest. */
const commonOnly = z.strictObject({
  ...experimentCommonFields,
  chaos_type: z.unknown().optional(),
  target: z.looseObject({}),
  parameters: z.looseObject({}).optional(),
});

/** Validates an experiment, naming every bad field at once. */
export function parseExperiment(input: unknown): FaultSpec {
  const chaosType = input && typeof input === 'object' && !Array.isArray(input) ? (input as { chaos_type?: unknown }).chaos_type : undefined;
  if (input && typeof input === 'object' && !Array.isArray(input) && !(CHAOS_TYPES as readonly unknown[]).includes(chaosType)) {
    const common = commonOnly.safeParse(input);
    throw new ValidationError([
      {
        field: 'chaos_type',
        message:
          chaosType === undefined
            ? `required: one of ${CHAOS_TYPES.join(', ')}`
            : typeof chaosType !== 'string'
              ? `must be one of ${CHAOS_TYPES.join(', ')}, not a ${Array.isArray(chaosType) ? 'list' : typeof chaosType}`
              : `unknown chaos type "${chaosType.slice(0, 64)}"; one of ${CHAOS_TYPES.join(', ')} (target and parameters are checked once it is known)`,
      },
      ...(common.success ? [] : fieldIssues(common.error.issues)),
    ]);
  }
  const result = experimentSchema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldIssues(result.error.issues));
  const tooLarge = sizeIssue(result.data);
  if (tooLarge) throw new ValidationError([tooLarge]);
  return result.data;
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');

/** Names the field that makes an experiment too large: the biggest top-level field, or the biggest probe. */
function sizeIssue(spec: FaultSpec): FieldIssue | undefined {
  const total = bytes(spec);
  if (total <= MAX_EXPERIMENT_BYTES) return undefined;
  const parts: [string, number][] = Object.entries(spec).map(([key, value]) => [key, bytes(value)]);
  spec.probes.forEach((probe, index) => parts.push([`probes[${index}]`, bytes(probe)]));
  const [field, size] = parts.filter(([key]) => key !== 'probes' || spec.probes.length <= 1).sort((a, b) => b[1] - a[1])[0] ?? ['', total];
  return {
    field,
    message: `too large: the experiment is ${total} bytes as JSON, ${size} of them here; an experiment may be at most ${MAX_EXPERIMENT_BYTES} bytes`,
  };
}
