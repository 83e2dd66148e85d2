/** The Experiments tab: the list, the form for a new experiment, and an experiment's page, by the route. */
import { html } from '../html.js';
import type { Route } from '../route.js';
import type { TabProps } from '../tabs.js';

/** An experiment to start the form from (from the Topology or Analysis tab); `merge`: keep what the form holds besides. */
export interface Draft {
  experiment: Record<string, unknown>;
  merge: boolean;
  /** Counts up with each new draft, so the form takes each once. */
  seq: number;
}

export interface ExperimentsTabProps extends TabProps {
  route: Extract<Route, { tab: 'experiments' }>;
  draft: Draft | undefined;
  /** Told the targets each dry run of the form would hit (the Topology tab highlights them). */
  onPlannedTargets(targets: readonly string[]): void;
}

export function ExperimentsTab(_props: ExperimentsTabProps) {
  return html`<section class="panel" aria-labelledby="experiments-title">
    <h2 id="experiments-title">Experiments</h2>
  </section>`;
}
