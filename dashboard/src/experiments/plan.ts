/** A dry run's plan, as the form previews it: exactly which targets it would hit, what it would do, how it would undo it. */
import { html } from '../html.js';
import type { DryRunPlan } from '../types.js';

/** The ids of the targets a plan would hit (a Chaos Toolkit experiment's: those of each fault its method applies). */
export function plannedTargets(plan: DryRunPlan): string[] {
  const own = (plan.targets ?? []).map((target) => target.id);
  const method = (plan.method ?? []).flatMap((activity) => (activity.plan ? plannedTargets(activity.plan) : []));
  return [...new Set([...own, ...method])];
}

function FaultPlan({ plan }: { plan: DryRunPlan }) {
  const targets = plan.targets ?? [];
  const selection = plan.selection;
  const random = selection && selection.requested < selection.matching;
  return html`
    <p>
      <strong>${plan.fault?.chaos_type ?? 'fault'}</strong> on ${targets.length} target${targets.length === 1 ? '' : 's'}
      ${plan.provider ? html` of <code>${plan.provider}</code>` : null}${selection
        ? ` — ${selection.matching} match, ${selection.requested} requested, the blast radius allows ${selection.allowed}${selection.capped ? ' (capped)' : ''}`
        : ''}.
    </p>
    <ul class="targets" aria-label="Targets it would hit">
      ${targets.map(
        (target) => html`<li data-target=${target.id}><code>${target.id}</code>${target.labels && Object.keys(target.labels).length > 0
          ? html` <span class="muted">${Object.entries(target.labels).map(([k, v]) => `${k}=${v}`).join(', ')}</span>`
          : null}</li>`,
      )}
    </ul>
    ${random ? html`<p class="muted">These were picked at random among the matching targets; a run picks again, among those no other experiment holds.</p>` : null}
    ${(plan.held_by_others ?? []).length > 0
      ? html`<p class="muted">Held by other experiments, so not picked: ${(plan.held_by_others ?? []).map((held) => `${held.target} (${held.holder})`).join(', ')}.</p>`
      : null}
    ${(plan.rollback ?? []).length > 0
      ? html`<h4>Rollback, written down before each fault</h4>
          <ol>${(plan.rollback ?? []).map((step) => html`<li><code>${step.action}</code> on <code>${step.target}</code></li>`)}</ol>`
      : null}
  `;
}

export function PlanView({ plan, note }: { plan: DryRunPlan; note?: string }) {
  return html`<section class="panel plan" aria-labelledby="plan-title" aria-live="polite">
    <h3 id="plan-title">Dry run: what “${plan.experiment}” would hit</h3>
    ${note ? html`<p class="notice">${note}</p>` : null}
    ${plan.method
      ? html`<ol>
          ${plan.method.map(
            (activity) => html`<li>
              ${activity.type} <strong>${activity.name}</strong> <span class="muted">(${activity.provider})</span>
              ${activity.plan ? html`<${FaultPlan} plan=${activity.plan} />` : null}
            </li>`,
          )}
        </ol>
        ${(plan.rollbacks ?? []).length > 0 ? html`<p>Declared rollbacks: ${(plan.rollbacks ?? []).join(', ')}</p>` : null}`
      : html`<${FaultPlan} plan=${plan} />`}
    <p class="muted">Nothing was injected or stored.</p>
  </section>`;
}
