/** Probes as the experiment model hands them over: parsed, with every default filled in. */
import type * as z from 'zod';
import { cmdProbeProperties, httpProbeProperties, type CmdProbe, type HttpProbe } from '../../../shared/model/experiment.js';
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
