/** The Experiments tab: the list, the form for a new experiment, and an experiment's page, by the route. */
import { html } from '../html.js';
import type { Route } from '../route.js';
import type { TabProps } from '../tabs.js';
import { ExperimentForm } from './form.js';
import type { FormMemory } from './form-model.js';

export type { FormMemory };
import { ExperimentList } from './list.js';
import { ExperimentPage } from './page.js';

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
  onDraftTaken(): void;
  formMemory: FormMemory | undefined;
  onFormMemory(memory: FormMemory): void;
  /** "New experiment" from the list: the form starts afresh (what was written in it before is dropped). */
  onFreshForm(): void;
  /** Told the targets each dry run of the form would hit (the Topology tab highlights them). */
  onPlannedTargets(targets: readonly string[]): void;
}

export function ExperimentsTab({ route, draft, onDraftTaken, formMemory, onFormMemory, onFreshForm, onPlannedTargets, ...props }: ExperimentsTabProps) {
  if (route.view === 'new') {
    return html`<${ExperimentForm} ...${props} draft=${draft} onDraftTaken=${onDraftTaken} memory=${formMemory} onMemory=${onFormMemory} onPlannedTargets=${onPlannedTargets} />`;
  }
  if (route.view === 'experiment') return html`<${ExperimentPage} ...${props} key=${route.id} id=${route.id} />`;
  return html`<${ExperimentList} ...${props} onFreshForm=${onFreshForm} />`;
}
