/**
 * An experiment's journal as JUnit XML, for CI pipelines: one test suite per experiment, and one test case for each
 * thing that can fail — the steady state before the fault, each probe under it, the hypothesis, the rollback. A
 * deviated hypothesis or a failed rollback step is a failure; a run that ended without being tested (aborted,
 * emergency-stopped, refused) is an error, so a pipeline never reads it as a pass. Either journal layout is read.
 */
import type { JsonObject, JsonValue } from './activity.js';

const obj = (value: unknown): JsonObject => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {});
const arr = (value: unknown): JsonValue[] => (Array.isArray(value) ? (value as JsonValue[]) : []);

interface TestCase {
  name: string;
  seconds: number;
  failure?: { message: string; detail: string };
  error?: { message: string; detail: string };
}

/** A JUnit XML document for one or more journals. */
export function junitXml(journals: readonly JsonObject[]): string {
  const suites = journals.map(suiteOf);
  const count = (key: 'tests' | 'failures' | 'errors') => suites.reduce((sum, suite) => sum + suite[key], 0);
  const seconds = suites.reduce((sum, suite) => sum + suite.seconds, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="chaosduck" tests="${count('tests')}" failures="${count('failures')}" errors="${count('errors')}" time="${seconds.toFixed(3)}">`,
    ...suites.map((suite) => suite.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

function suiteOf(journal: JsonObject) {
  const experiment = obj(journal.experiment);
  const duck = obj(journal.chaosduck);
  const name = String(experiment.name ?? experiment.title ?? duck.id ?? 'experiment');
  const status = String(journal.status ?? duck.status ?? 'unknown');
  const seconds = typeof journal.duration === 'number' ? journal.duration : 0;
  const cases: TestCase[] = [];
  const states = obj(journal.steady_states);
  const before = obj(states.before);
  const tested = arr(journal.run).some((record) => obj(obj(record).activity).type === 'action' && obj(record).status === 'succeeded');

  const beforeProbes = arr(before.probes).map(obj);
  cases.push({
    name: 'steady state before the fault',
    seconds: sumSeconds(beforeProbes),
    ...(before.steady_state_met === false ? { failure: { message: 'the steady state was not met before the fault, so nothing was injected', detail: probeLines(beforeProbes) } } : {}),
  });
  const under = [...arr(states.during).flatMap((tick) => arr(obj(tick).probes)), ...arr(obj(states.after).probes)].map(obj);
  const byProbe = new Map<string, JsonObject[]>();
  for (const record of under) {
    const probe = String(obj(record.activity).name ?? 'probe');
    byProbe.set(probe, [...(byProbe.get(probe) ?? []), record]);
  }
  for (const [probe, checks] of byProbe) {
    const failed = checks.filter((check) => check.tolerance_met !== true);
    cases.push({
      name: `probe ${probe} during and after the fault`,
      seconds: sumSeconds(checks),
      ...(failed.length > 0 ? { failure: { message: `${failed.length} of ${checks.length} checks out of tolerance`, detail: probeLines(failed) } } : {}),
    });
  }
  const statement = String(obj(duck.hypothesis).statement ?? obj(experiment['steady-state-hypothesis']).title ?? 'the steady state holds');
  cases.push({
    name: `hypothesis: ${statement}`,
    seconds: 0,
    ...(journal.deviated === true ? { failure: { message: 'the experiment deviated from its steady state', detail: statement } } : {}),
    ...(!tested && before.steady_state_met !== false
      ? { error: { message: `not tested: the experiment ended ${status} (${String(duck.reason ?? 'no reason recorded')}) before any fault was applied`, detail: String(duck.error ?? '') } }
      : {}),
  });
  const steps = arr(journal.rollbacks).map(obj);
  const failedSteps = steps.filter((step) => step.status === 'failed');
  cases.push({
    name: 'rollback',
    seconds: sumSeconds(steps),
    ...(failedSteps.length > 0
      ? {
          failure: {
            message: `${failedSteps.length} of ${steps.length} rollback steps failed: a fault may still be in place`,
            detail: failedSteps.map((step) => `${String(obj(step.activity).name ?? '')}: ${arr(step.exception).join(' ')}`).join('\n'),
          },
        }
      : {}),
  });
  if (['aborted', 'emergency_stopped', 'interrupted'].includes(status) && tested) {
    cases.push({ name: 'run to its end', seconds: 0, error: { message: `the experiment ended ${status} (${String(duck.reason ?? '')})`, detail: String(duck.error ?? '') } });
  }

  const score = obj(duck.resilience_score);
  const properties = [
    ['experiment_id', String(duck.id ?? '')],
    ['status', status],
    ['deviated', String(journal.deviated === true)],
    ...(typeof score.score === 'number' ? [['resilience_score', String(score.score)]] : []),
  ];
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error && !c.failure).length;
  const xml = [
    `  <testsuite name="${attr(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${seconds.toFixed(3)}" timestamp="${attr(String(journal.start ?? ''))}">`,
    '    <properties>',
    ...properties.map(([key, value]) => `      <property name="${attr(key as string)}" value="${attr(value as string)}"/>`),
    '    </properties>',
    ...cases.map((c) => {
      const open = `    <testcase classname="chaosduck.${attr(String(experiment.chaos_type ?? 'chaostoolkit'))}.${attr(name)}" name="${attr(c.name)}" time="${c.seconds.toFixed(3)}"`;
      if (c.failure) return `${open}>\n      <failure message="${attr(c.failure.message)}">${text(c.failure.detail)}</failure>\n    </testcase>`;
      if (c.error) return `${open}>\n      <error message="${attr(c.error.message)}">${text(c.error.detail)}</error>\n    </testcase>`;
      return `${open}/>`;
    }),
    '  </testsuite>',
  ].join('\n');
  return { xml, tests: cases.length, failures, errors, seconds };
}

function sumSeconds(records: JsonObject[]): number {
  return records.reduce((sum, record) => sum + (typeof record.duration === 'number' ? record.duration : 0), 0);
}

function probeLines(records: JsonObject[]): string {
  return records.map((record) => `${String(record.start ?? '')} ${String(obj(record.activity).name ?? '')}: ${JSON.stringify(record.output ?? record.exception ?? null).slice(0, 300)}`).join('\n');
}

/** XML 1.0 allows neither most control characters nor unpaired surrogates; they are dropped, the rest escaped. */
const clean = (value: string) => value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
const attr = (value: string) => clean(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
const text = (value: string) => clean(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
