/**
 * What each tab of the dashboard is given by the shell (app.ts). A tab is a Preact component in a module of its own
 * (experiments/, topology.ts, analysis.ts); it calls the API through `api` and follows experiments live through `live`.
 */
import type { ExperimentInput } from '../../shared/model/experiment.js';
import type { Api } from './api.js';
import type { LiveFeed } from './live.js';
import type { ServerInfo } from './server-info.js';

export interface TabProps {
  /** The API client, logged in: `api.call('steadyState', { query })`. A 401 anywhere sends the person back to log in. */
  api: Api;
  /** Progress events as they happen: `live.watch(experimentId or '*', onEvent, onState)`. */
  live: LiveFeed;
  /** What the server serving the page said of itself (GET /dashboard.json): who it is, whether progress is live. */
  server: ServerInfo;
  /** Goes to a place in the dashboard, by its hash (route.ts): `navigate('#/experiments/exp-…')`. */
  navigate(hash: string): void;
}

/** An experiment's `target` as the API takes it (one of the target shapes of its chaos type). */
export type ExperimentTarget = ExperimentInput['target'];

export interface TopologyTabProps extends TabProps {
  /** Fills the new-experiment form's target with `target` (keeping what else the form holds: what was typed in it before
   * is kept while the person goes to another tab and back) and opens the form. */
  onSelectTargets(target: ExperimentTarget): void;
  /** The ids of the targets the form's latest dry run would hit (`sandbox/demo/replica-2`, a pod, an instance): to highlight. */
  plannedTargets: readonly string[];
}

export interface AnalysisTabProps extends TabProps {
  /** Opens the new-experiment form filled with `experiment` (a generated one, say); the person checks and submits it. */
  onDraftExperiment(experiment: Record<string, unknown>): void;
}
