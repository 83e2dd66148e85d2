/** The Analysis tab: resilience trend, hypotheses, natural language to an experiment. Coming: for now a panel that says so. */
import { html } from './html.js';
import type { AnalysisTabProps } from './tabs.js';

export function AnalysisTab(_props: AnalysisTabProps) {
  return html`<section class="panel coming" aria-labelledby="analysis-title">
    <h2 id="analysis-title">Analysis</h2>
    <p>Coming: the resilience score over time, failure hypotheses for the current topology, and an experiment written from a sentence.</p>
  </section>`;
}
