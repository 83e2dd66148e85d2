/**
 * The analysis commands: `chaosduck analyze <id>`, `chaosduck hypotheses`, `chaosduck nl "<prompt>"`, `chaosduck
 * score` and `chaosduck report <journals...>`. Each asks the same cores as the `/api/analysis/*` routes, on the
 * embedded runtime's data (the report: on journal files), with Claude when `ANTHROPIC_API_KEY` is set and the
 * offline analyst otherwise; `--json` prints the route's answer as it is.
 */
import type { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import type { AnalysisDeps } from '../functions/analysis/core.js';
import type { FaultDriver } from '../shared/faults/driver.js';
import type { LocalRuntime } from '../local/runtime.js';
import { ValidationError, errorMessage } from '../shared/errors.js';
import type { JsonObject } from '../shared/journal/activity.js';
import { readExperimentFile } from './experiment-file.js';

const EXIT_INVALID = 2;
const EXIT_FAILED = 1;

type Answer = Record<string, any>;

export interface AnalysisCommandContext {
  dataDirOption: Option;
  /** The embedded runtime on a data directory, with the CLI's drivers (AWS, Kubernetes, loaded lazily) and these. */
  startRuntime(dataDir: string, drivers: FaultDriver[], options: { sweep: boolean }): Promise<LocalRuntime>;
  /** The sandbox, started only if a dry run needs it. */
  sandbox(): { driver: FaultDriver; stop(): Promise<void> };
}

/** Opens the runtime read-only in spirit (no recovery sweep), runs `work` with the analysis deps, and stops it. */
async function withAnalysis<T>(dataDir: string, context: AnalysisCommandContext, work: (deps: AnalysisDeps, core: typeof import('../functions/analysis/core.js')) => Promise<T>): Promise<T> {
  const [core, { analystFromEnv }, { runtimeTopology }] = await Promise.all([
    import('../functions/analysis/core.js'),
    import('../shared/analysis/configure.js'),
    import('../local/topology.js'),
  ]);
  const sandbox = context.sandbox();
  try {
    const runtime = await context.startRuntime(dataDir, [sandbox.driver], { sweep: false });
    try {
      const deps = { store: runtime.store, analyst: analystFromEnv(), dryRun: (experiment: unknown) => runtime.dryRun(experiment), topology: () => runtimeTopology(runtime), runtime: 'local' as const, guardrails: runtime.deps.guardrails };
      return await work(deps, core);
    } finally {
      await runtime.stop();
    }
  } finally {
    await sandbox.stop();
  }
}

const by = (answer: Answer) =>
  answer.source === 'claude' ? `analysis by Claude (${answer.model}; ${answer.usage?.input_tokens ?? 0} tokens in, ${answer.usage?.output_tokens ?? 0} out)` : `analysis by the offline rules${answer.note ? ` (${answer.note})` : ''}`;

export function registerAnalysisCommands(program: Command, context: AnalysisCommandContext): void {
  program
    .command('analyze')
    .description('what a finished experiment showed: its hypothesis, probes, findings and what to do next')
    .argument('<experiment-id>', 'experiment id, as `run` prints it')
    .option('--json', 'print the answer as JSON', false)
    .addOption(context.dataDirOption)
    .action(async (id: string, options: { json: boolean; dataDir: string }) => {
      const { body } = await withAnalysis(options.dataDir, context, (deps, core) => core.analyzeExperiment(id, deps));
      if (options.json) return void console.log(JSON.stringify(body, null, 2));
      const analysis = (body as Answer).analysis as Answer;
      console.log(analysis.summary);
      console.log(`hypothesis  ${analysis.hypothesis.statement || '(none stated)'}\n            ${analysis.hypothesis.verdict}`);
      for (const probe of analysis.probes) {
        console.log(`probe       ${probe.name}: ${probe.passed}/${probe.checks} checks within tolerance${probe.latency_ms ? `, latency median ${probe.latency_ms.median} ms, p95 ${probe.latency_ms.p95} ms` : ''}`);
      }
      if (analysis.score) console.log(`resilience  ${analysis.score.score}/100 — ${analysis.score.explanation.join('; ')}`);
      for (const finding of analysis.findings) console.log(`${finding.severity.padEnd(11)} ${finding.text}`);
      analysis.recommendations.forEach((text: string, i: number) => console.log(`${i === 0 ? 'next' : ''.padEnd(4)}        ${i + 1}. ${text}`));
      console.log(by(body as Answer));
    });

  program
    .command('hypotheses')
    .description('failure hypotheses for a topology (this machine\'s: kubeconfig, AWS, sandbox; or a file), each with its experiment')
    .option('--topology <file>', 'a topology as the topology routes answer it (JSON or YAML)')
    .option('--steady-state-url <url>', 'an http endpoint that answers 200 when healthy: every proposed experiment checks it')
    .option('--json', 'print the answer as JSON', false)
    .addOption(context.dataDirOption)
    .action(async (options: { topology?: string; steadyStateUrl?: string; json: boolean; dataDir: string }) => {
      const request = {
        ...(options.topology ? { topology: readExperimentFile(options.topology) } : {}),
        ...(options.steadyStateUrl ? { steady_state: { url: options.steadyStateUrl } } : {}),
      };
      const { body } = await withAnalysis(options.dataDir, context, (deps, core) => core.hypotheses(request, deps));
      if (options.json) return void console.log(JSON.stringify(body, null, 2));
      const answer = body as Answer;
      if (answer.hypotheses.length === 0) console.log(`nothing to hypothesise about in the ${answer.topology_from}'s topology (no workloads, instances or databases found)`);
      for (const h of answer.hypotheses) {
        console.log(`${String(h.rank).padStart(2)}. [${h.likelihood} likelihood, ${h.impact} impact] ${h.title}\n    ${h.statement}\n    why: ${h.rationale}\n    test: ${JSON.stringify(h.experiment)}`);
      }
      console.log(by(answer));
    });

  program
    .command('nl')
    .description('the experiment a sentence describes (English or Korean), validated; prints the file it would run')
    .argument('<prompt>', 'e.g. "nginx pod 하나를 랜덤으로 죽이고 복구 시간 관찰"')
    .option('-o, --output <file>', 'also write the experiment to this file (JSON)')
    .option('--json', 'print the whole answer as JSON', false)
    .addOption(context.dataDirOption)
    .action(async (prompt: string, options: { output?: string; json: boolean; dataDir: string }) => {
      const { body } = await withAnalysis(options.dataDir, context, (deps, core) => core.nlExperiment({ prompt }, deps));
      const answer = body as Answer;
      if (options.output && answer.valid) writeFileSync(options.output, `${JSON.stringify(answer.experiment, null, 2)}\n`);
      if (options.json) return void console.log(JSON.stringify(answer, null, 2));
      for (const line of answer.understood) console.log(`# read:    ${line}`);
      for (const line of answer.assumptions) console.log(`# assumed: ${line}`);
      if (!answer.valid) {
        for (const problem of answer.problems) console.log(`# problem: ${problem.field}: ${problem.message}`);
        process.exitCode = 2;
      } else if (answer.refused) {
        console.log(`# refused by the dry run: ${answer.refused.message}`);
      }
      console.log(stringify(answer.experiment).trimEnd());
      console.log(`# ${by(answer)}; nothing was run${options.output && answer.valid ? `; written to ${resolve(options.output)} — run it with: chaosduck run ${options.output}` : ''}`);
    });

  program
    .command('score')
    .description('resilience scores: of the experiments named, or the trend (filter by --service, --target, --chaos-type)')
    .argument('[experiment-ids...]', 'experiments to score; none: the trend of all')
    .option('--service <service>', 'only this service')
    .option('--target <target>', 'only this target, as the trend names it (e.g. kubernetes:shop/app=web)')
    .option('--chaos-type <type>', 'only this chaos type')
    .option('--json', 'print the answer as JSON', false)
    .addOption(context.dataDirOption)
    .action(async (ids: string[], options: { service?: string; target?: string; chaosType?: string; json: boolean; dataDir: string }) => {
      const query = { service: options.service, target: options.target, chaos_type: options.chaosType };
      const answers = await withAnalysis(options.dataDir, context, async (deps, core) =>
        ids.length > 0 ? [(await core.scoreExperiments({ experiments: ids }, deps)).body as Answer] : [(await core.trend(query, deps)).body as Answer, (await core.trendSummary(query, deps)).body as Answer],
      );
      if (options.json) return void console.log(JSON.stringify(ids.length > 0 ? answers[0] : { trend: answers[0], summary: answers[1] }, null, 2));
      const [first, summary] = answers as [Answer, Answer | undefined];
      const rows = (ids.length > 0 ? first.scores : first.items) as Answer[];
      for (const s of rows) console.log(`${String(s.score).padStart(3)}/100  ${s.ended_at}  ${s.experiment_id}  ${s.chaos_type}  ${s.target}`);
      for (const u of first.unscored ?? []) console.log(`   —     ${u.experiment}: ${u.reason}`);
      if (summary && summary.count > 0) console.log(`${summary.count} scored; latest ${summary.latest.score}, mean ${summary.mean}, change ${summary.change ?? '—'}, worst ${summary.worst.score} (${summary.worst.experiment_id})`);
      if (rows.length === 0 && (first.unscored ?? []).length === 0) console.log('no scores yet: an experiment is scored when it ends, if it applied a fault');
    });

  program
    .command('report')
    .description("an HTML page with charts of finished experiments' journals (chaosduck run's or Chaos Toolkit's): timeline, probes, recovery; for several, their comparison and trend")
    .argument('<journals...>', 'journal files, as `chaosduck run` or `chaos run` writes them')
    .option('-o, --output <file>', 'where to write the HTML page', 'report.html')
    .option('--pdf <file>', 'also print the page to a PDF file, through Chromium (CHAOSDUCK_CHROMIUM names it if it is not on PATH)')
    .action(async (files: string[], options: { output: string; pdf?: string }) => {
      const journals = await readJournals(files);
      if (!journals) return void (process.exitCode = EXIT_INVALID);
      const [{ reportOn }, { analystFromEnv }] = await Promise.all([import('../functions/analysis/core.js'), import('../shared/analysis/configure.js')]);
      const report = await reportOn(journals, analystFromEnv());
      try {
        writeFileSync(options.output, report.html);
      } catch (error) {
        // Node's message ends with the call and the path (", open '<path>'"), said already.
        console.error(`cannot write ${options.output}: ${errorMessage(error).replace(/, \w+ '[^']*'$/, '')}`);
        return void (process.exitCode = EXIT_INVALID);
      }
      console.log(`report     ${resolve(options.output)} (${report.title})`);
      if (options.pdf) {
        const { printPdf, BrowserUnavailableError } = await import('./pdf.js');
        try {
          await printPdf(report.html, options.pdf);
          console.log(`pdf        ${resolve(options.pdf)}`);
        } catch (error) {
          if (!(error instanceof BrowserUnavailableError)) throw error;
          console.error(`no PDF: ${error.message} (the HTML page was written)`);
          process.exitCode = EXIT_FAILED;
        }
      }
      console.log(by(report.by as Answer));
    });
}

/** Each file's journal; undefined (each problem printed, naming its file and field) when any is not one. */
async function readJournals(files: string[]): Promise<JsonObject[] | undefined> {
  const { parseJournal } = await import('../shared/journal/read.js');
  const read = (file: string): JsonObject | string[] => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      return [`cannot read it: ${errorMessage(error)}`];
    }
    try {
      return parseJournal(JSON.parse(text));
    } catch (error) {
      if (error instanceof SyntaxError) return [`not JSON: ${error.message}`];
      if (!(error instanceof ValidationError)) throw error;
      return error.issues.map((issue) => (issue.field ? `${issue.field}: ${issue.message}` : issue.message));
    }
  };
  const journals: JsonObject[] = [];
  for (const file of files) {
    const journal = read(file);
    if (Array.isArray(journal)) console.error(`${file} is not a journal:\n${journal.map((problem) => `  ${problem}`).join('\n')}`);
    else journals.push(journal);
  }
  return journals.length === files.length ? journals : undefined;
}
