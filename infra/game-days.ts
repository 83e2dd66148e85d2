/**
 * The game days file (`chaosduck:gameDaysFile`): JSON or YAML, a list of `{ name, schedule, experiment }`. Read and
 * checked whole at synth — each experiment as the API would check it in Lambda — so a bad game day fails the deploy,
 * naming the game day and its bad fields, instead of failing at 3 a.m. in a dead-letter queue.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ValidationError, fieldIssues, type FieldIssue } from '../shared/errors.js';
import { validateExperiment } from '../shared/lifecycle/control.js';
import { DEFAULT_GUARDRAILS, type GuardrailConfig } from '../shared/lifecycle/deps.js';
import { parseDocumentText } from '../shared/model/document.js';
import { type GameDay, gameDaysSchema } from '../shared/model/game-day.js';
import { isChaosToolkitSpec, type FaultSpec } from '../shared/model/experiment.js';
import { targetRoleAllowed } from './constructs/target-role-policy.js';

export interface GameDayChecks {
  /** The role ARNs the functions may assume; a game day naming another role could never reach its targets. */
  readonly targetRoleArns: readonly string[];
  /** The deployed guardrails (timeout cap, production rule); the defaults when not given. */
  readonly guardrails?: GuardrailConfig;
}

export function loadGameDays(file: string, checks: GameDayChecks): GameDay[] {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`game days file ${file} cannot be read: ${(error as Error).message}`);
  }
  return parseGameDays(parseDocumentText(text, `game days file ${file}`), file, checks);
}

export function parseGameDays(document: unknown, source: string, checks: GameDayChecks): GameDay[] {
  // An empty YAML file is null: no game days.
  const parsed = gameDaysSchema.safeParse(document ?? []);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), `game days file ${source}`);
  const seen = new Set<string>();
  for (const [index, gameDay] of parsed.data.entries()) {
    if (seen.has(gameDay.name)) {
      throw new ValidationError([{ field: `[${index}].name`, message: `"${gameDay.name}" is used by an earlier game day` }], `game days file ${source}`);
    }
    seen.add(gameDay.name);
    checkExperiment(gameDay, checks);
  }
  return parsed.data;
}

function checkExperiment(gameDay: GameDay, checks: GameDayChecks): void {
  const what = `game day "${gameDay.name}"`;
  let issues: FieldIssue[];
  try {
    // Lambda is where it runs: `cmd` probes are refused there, as the API refuses them.
    const validated = validateExperiment(gameDay.experiment, { runtime: 'lambda', guardrails: checks.guardrails ?? DEFAULT_GUARDRAILS });
    // A Chaos Toolkit experiment's native actions name no role of their own: nothing more to check.
    const spec = isChaosToolkitSpec(validated) ? { target: {}, probes: [] as FaultSpec['probes'] } : validated;
    const targetRole = (spec.target as { role_arn?: string }).role_arn;
    const roles = [
      ...(targetRole ? [{ field: 'target.role_arn', arn: targetRole }] : []),
      ...spec.probes.flatMap((probe, index) =>
        probe.type === 'cloudwatch_alarm' && probe.properties.role_arn ? [{ field: `probes[${index}].properties.role_arn`, arn: probe.properties.role_arn }] : [],
      ),
    ];
    issues = roles
      .filter(({ arn }) => !targetRoleAllowed(arn, checks.targetRoleArns))
      .map(({ field, arn }) => ({ field, message: `${arn} is not among the roles the functions may assume (context chaosduck:targetRoleArns)` }));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    issues = error.issues;
  }
  if (issues.length > 0) {
    throw new ValidationError(
      issues.map((issue) => ({ ...issue, field: issue.field ? `experiment.${issue.field}` : 'experiment' })),
      what,
    );
  }
}
