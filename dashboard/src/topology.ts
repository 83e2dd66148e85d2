/** The Topology tab: what can be targeted, as a graph, with each node's steady-state signals. Coming: for now a panel that says so. */
import { html } from './html.js';
import type { TopologyTabProps } from './tabs.js';

export function TopologyTab(_props: TopologyTabProps) {
  return html`<section class="panel coming" aria-labelledby="topology-title">
    <h2 id="topology-title">Topology</h2>
    <p>Coming: a graph of what can be targeted (the sandbox, Kubernetes, AWS), each node with its steady-state signals; selecting nodes fills the experiment form's target.</p>
  </section>`;
}
