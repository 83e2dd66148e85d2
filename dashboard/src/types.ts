/** What the API answers, as the dashboard reads it: typed from the route descriptions where they give a schema. */
import type * as z from 'zod';
import type { API_ROUTES } from '../../functions/api/routes.js';
import type { JsonObject } from '../../shared/journal/activity.js';
import type { ExperimentSpec } from '../../shared/model/experiment.js';
import type { JournalEvent, PhaseResult, RollbackState } from '../../shared/model/lifecycle.js';

export type { JournalEvent, JsonObject, PhaseResult };

export type ExperimentPage = z.infer<(typeof API_ROUTES)['listExperiments']['responses'][200]['schema']>;
export type ExperimentSummary = ExperimentPage['items'][number] & { error?: string | null; deviated?: boolean | null };
export type Accepted = z.infer<(typeof API_ROUTES)['createExperiment']['responses'][202]['schema']>;

/** GET /api/chaos/experiments/{id} (functions/api/core.ts: getExperiment). */
export type ExperimentDetail = ExperimentSummary & {
  spec: ExperimentSpec;
  phase_results: PhaseResult[];
  rollback_stack: { seq: number; action: string; target: string; state: RollbackState; outcome: JsonObject | null }[];
  /** While it runs: its latest events (`events_total` of them in all). */
  events?: JournalEvent[];
  events_total?: number;
  /** Once it ended. */
  journal?: JsonObject;
};

/** A dry run's plan (shared/lifecycle/control.ts: dryRun): the targets it would hit and what it would do to each. */
export interface DryRunPlan {
  dry_run: true;
  experiment: string;
  format?: 'chaostoolkit';
  fault?: { chaos_type: string; parameters: JsonObject };
  provider?: string;
  targets?: { id: string; labels?: Record<string, string> }[];
  selection?: { matching: number; requested: number; allowed: number; capped: boolean };
  held_by_others?: { target: string; holder: string }[];
  rollback?: { action: string; target: string }[];
  /** A Chaos Toolkit experiment: its method's activities, each with the plan of the fault it applies. */
  method?: { index: number; type: string; name: string; provider: string; plan: DryRunPlan | null }[];
  rollbacks?: string[];
}
