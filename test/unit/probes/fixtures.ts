/** Probes as the experiment model hands them over (parsed, with every default filled in), and what it says of bad ones. */
import type * as z from 'zod';
import { ValidationError } from '../../../shared/errors.js';
import { cmdProbeProperties, httpProbeProperties, type CmdProbe, type HttpProbe } from '../../../shared/model/experiment.js';
import { parseExperiment } from '../../../shared/model/parse.js';
import type { ProbeEnvironment } from '../../../shared/probes/probe.js';

export function httpProbe(properties: z.input<typeof httpProbeProperties>, name = 'web'): HttpProbe {
  return { name, mode: 'continuous', type: 'http', properties: httpProbeProperties.parse(properties) };
}

export function cmdProbe(properties: z.input<typeof cmdProbeProperties>, name = 'shell'): CmdProbe {
  return { name, mode: 'continuous', type: 'cmd', properties: cmdProbeProperties.parse(properties) };
}

export function localEnv(signal: AbortSignal = new AbortController().signal): ProbeEnvironment {
  return { runtime: 'local', signal };
}

/** The issues `parseExperiment` refuses `input` with; fails when it accepts it or throws anything else. */
export function issuesOf(input: unknown): { field: string; message: string }[] {
  try {
    parseExperiment(input);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
}
