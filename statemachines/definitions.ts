/**
 * Loads the ASL files with their `${...}` substitutions — the same files and the same placeholders that CDK fills
 * with `DefinitionBody.fromFile` + `definitionSubstitutions`, so the local runtime and the tests run what AWS runs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FunctionName } from '../functions/registry.js';

export const MACHINE_NAMES = ['experiment', 'steady-state', 'hypothesis', 'inject', 'observe', 'rollback'] as const;
export type MachineName = (typeof MACHINE_NAMES)[number];

const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());

/** `run-probes` → `RunProbesFunctionArn`. */
export const functionArnKey = (name: FunctionName) => `${pascal(name)}FunctionArn`;
/** `steady-state` → `SteadyStateMachineArn`. */
export const machineArnKey = (name: MachineName) => `${pascal(name)}MachineArn`;

export type AslDefinition = { StartAt: string; States: Record<string, Record<string, unknown>>; Comment?: string };

export function definitionPath(name: MachineName): string {
  return fileURLToPath(new URL(`./${name}.asl.json`, import.meta.url));
}

export function loadDefinition(name: MachineName, substitutions: Record<string, string>): AslDefinition {
  const text = readFileSync(definitionPath(name), 'utf8').replace(/\$\{(\w+)\}/g, (placeholder, key: string) => {
    const value = substitutions[key];
    if (value === undefined) throw new Error(`${name}.asl.json: no substitution for ${placeholder}`);
    return value;
  });
  return JSON.parse(text) as AslDefinition;
}
