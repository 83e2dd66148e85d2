/**
 * The Topology tab: what can be targeted (the local sandbox, a Kubernetes cluster, AWS; GET /api/topology/combined)
 * as a force-directed graph, each node with its state and the steady-state signals experiments last read on it (GET
 * /api/topology/steady-state). Selecting nodes (a click, or Enter on a focused one) builds one experiment target;
 * "New experiment on this target" fills the form with it. The targets of the form's latest dry run are ringed.
 *
 * Read again every few seconds while open and the page is visible (less often through the proxy of `chaosduck
 * dashboard`, where each read is Lambda and describe calls in AWS), and soon after an experiment starts, rolls back or ends.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { forceLayout } from './force-layout.js';
import { html } from './html.js';
import type { TopologyTabProps } from './tabs.js';
import { joins, targetOf, topologyGraph, type GraphNode, type Signal, type Tone } from './topology-graph.js';
import { everyWhileVisible } from './visible.js';
import './topology.css';

/** How often the signals are read again while the tab is open: from `serve`, and through the proxy to AWS. */
const REFRESH_EVERY_MS = { serve: 10_000, dashboard: 30_000 } as const;
/** Events after which what is there (a replica killed and replaced) or its signals have changed. */
const CHANGES = new Set(['experiment.started', 'fault.applied', 'rollback.started', 'rollback.step', 'experiment.finished']);
const REFRESH_AFTER_MS = 500;

/** Room each node takes in the layout: its mark and the three lines of text under it. */
const NODE_RADIUS = 58;
const MARK_RADIUS = 17;
/** Kinds that group others and are not targets themselves, drawn as squares. */
const GROUPS = new Set(['cluster', 'namespace', 'aws', 'vpc']);
/** Kinds that are one target each: a dry run names them. */
const LEAVES = new Set(['sandbox-replica', 'pod', 'instance', 'db-cluster', 'subnet', 'route-table']);
const SIGNS: Record<Tone, string> = { good: '✓', bad: '✗', warn: '!', info: '●', neutral: '○' };

const SOURCE_NAMES = { sandbox: 'Sandbox', kubernetes: 'Kubernetes', aws: 'AWS' } as const;
const SOURCE_TONES: Record<string, Tone> = { shown: 'good', 'not configured': 'neutral', unavailable: 'bad' };

const steadyWords = (met: boolean | null | undefined) => (met === true ? 'steady state met' : met === false ? 'steady state not met' : met === null ? 'no steady-state verdict' : undefined);
const cut = (text: string, chars: number) => (text.length > chars ? `${text.slice(0, chars - 1)}…` : text);

interface Answers {
  combined: unknown;
  steady: unknown;
  readAt: Date;
}

export function TopologyTab({ api, live, server, onSelectTargets, plannedTargets }: TopologyTabProps) {
  const [answers, setAnswers] = useState<Answers | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [reading, setReading] = useState(false);
  const [asked, setAsked] = useState(0);
  const [selected, setSelected] = useState<string[]>([]);
  const [shown, setShown] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    const controller = new AbortController();
    setReading(true);
    Promise.all([api.call('combinedTopology', { signal: controller.signal }), api.call('steadyState', { signal: controller.signal })])
      .then(([combined, steady]) => {
        setAnswers({ combined, steady, readAt: new Date() });
        setProblem(undefined);
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setProblem(error instanceof ApiError ? error.message : String(error));
      })
      .finally(() => {
        if (!controller.signal.aborted) setReading(false);
      });
    return () => controller.abort();
  }, [api, asked]);

  useEffect(() => {
    let soon: ReturnType<typeof setTimeout> | undefined;
    const again = () => setAsked((n) => n + 1);
    const pause = everyWhileVisible(document, again, REFRESH_EVERY_MS[server.servedBy]);
    const stop = live.watch('*', (event) => {
      if (!CHANGES.has(event.type)) return;
      clearTimeout(soon);
      soon = setTimeout(again, REFRESH_AFTER_MS);
    });
    return () => {
      pause();
      clearTimeout(soon);
      stop();
    };
  }, [live, server]);

  const graph = useMemo(() => (answers ? topologyGraph(answers.combined, answers.steady) : undefined), [answers]);
  // Laid out again only when what is drawn changes, not when a state or a signal does.
  const shape = graph ? JSON.stringify([graph.nodes.map((node) => node.id), graph.edges]) : '';
  const positions = useMemo(() => (graph ? forceLayout(graph.nodes.map((node) => ({ id: node.id, radius: NODE_RADIUS })), graph.edges) : new Map()), [shape]);
  const byId = useMemo(() => new Map((graph?.nodes ?? []).map((node) => [node.id, node])), [graph]);
  const selection = selected.map((id) => byId.get(id)).filter((node): node is GraphNode => node !== undefined);
  const chosen = selection.length > 0 ? targetOf(selection) : undefined;
  const planned = useMemo(() => new Set(plannedTargets), [plannedTargets]);
  const drawnLeaves = useMemo(() => new Set((graph?.nodes ?? []).filter((node) => LEAVES.has(node.kind)).flatMap((node) => node.targetIds)), [graph]);
  /** A leaf when the dry run names it; a workload or service when it names targets of it that are not drawn. */
  const isPlanned = (node: GraphNode) => node.targetIds.some((id) => planned.has(id) && (LEAVES.has(node.kind) || !drawnLeaves.has(id)));

  const toggle = useCallback(
    (node: GraphNode) => {
      setShown(node.id);
      if (!node.target) {
        setNotice(`${node.description} cannot be targeted itself: choose what is in it.`);
        return;
      }
      const current = selected.map((id) => byId.get(id)).filter((n): n is GraphNode => n !== undefined);
      if (selected.includes(node.id)) {
        setSelected(selected.filter((id) => id !== node.id));
        setNotice(undefined);
      } else if (joins(current, node)) {
        setSelected([...selected, node.id]);
        setNotice(undefined);
      } else {
        setSelected([node.id]);
        setNotice(`A new selection: ${node.name} cannot be part of one target with what was selected (one experiment targets one kind of thing in one place).`);
      }
    },
    [selected, byId],
  );

  const details = shown ? byId.get(shown) : undefined;
  const missingPlanned = plannedTargets.filter((id) => !(graph?.nodes ?? []).some((node) => node.targetIds.includes(id)));

  return html`<section class="panel topology" aria-labelledby="topology-title">
    <div class="toolbar">
      <h2 id="topology-title" tabindex="-1">Topology</h2>
      <div class="actions">
        <span class="muted" role="status">${reading ? 'Reading…' : answers ? `Read at ${answers.readAt.toLocaleTimeString()}` : ''}</span>
        <button type="button" onClick=${() => setAsked((n) => n + 1)} disabled=${reading}>Read again</button>
      </div>
    </div>
    <p class="muted">
      What this control plane can target, and the steady state experiments last saw on it. Select nodes with a click, or Tab to one and press Enter;
      several replicas, pods of one namespace, instances or subnets make one target.
    </p>
    ${problem ? html`<p class="problem" role="alert">${problem}</p>` : null}
    ${graph
      ? html`<ul class="sources" aria-label="Sources">
          ${graph.sources.map(
            (source) => html`<li data-source=${source.name}>
              ${SOURCE_NAMES[source.name]}: <span class=${`tag ${SOURCE_TONES[source.state] ?? 'neutral'}`}>${source.state}</span>${source.message ? html` <span class="muted">${source.message}</span>` : null}
            </li>`,
          )}
        </ul>`
      : null}
    ${plannedTargets.length > 0
      ? html`<p class="notice planned-note">
          The form's latest dry run would hit ${plannedTargets.length === 1 ? 'one target' : `${plannedTargets.length} targets`}, ringed in the graph: ${plannedTargets.map((id) => html`<code>${id}</code> `)}${missingPlanned.length > 0 ? html`(${missingPlanned.length} not drawn here)` : null}
        </p>`
      : null}
    ${!graph && !problem ? html`<p role="status">Reading the topology…</p>` : null}
    ${graph && graph.nodes.length === 0
      ? html`<p>Nothing to target here: this control plane has no sandbox, and no Kubernetes or AWS access it could read (see the sources above).</p>`
      : null}
    ${graph && graph.nodes.length > 0
      ? html`<div class="topology-body">
          <${Graph} graph=${graph} positions=${positions} selected=${selected} shown=${shown} isPlanned=${isPlanned} onToggle=${toggle} onShow=${setShown} />
          <aside class="topology-side" aria-label="Selection">
            <${Selection} selection=${selection} chosen=${chosen} notice=${notice} onUse=${onSelectTargets} onClear=${() => (setSelected([]), setNotice(undefined))} />
          </aside>
        </div>
        ${details ? html`<${Details} node=${details} planned=${isPlanned(details)} />` : html`<p class="muted">Focus or select a node to see its state and signals here.</p>`}`
      : null}
    ${graph && graph.leftOut.length > 0 ? html`<p class="muted">Not drawn, to keep the graph readable: ${graph.leftOut.join('; ')}.</p>` : null}
    ${graph && graph.unplaced.length > 0
      ? html`<details class="unplaced">
          <summary>Steady state of ${graph.unplaced.length === 1 ? 'a target' : `${graph.unplaced.length} targets`} not in the graph</summary>
          <p class="muted">Experiments read these targets, but the sources above do not show them now (a cluster not reached, a selector that matches nothing drawn).</p>
          ${graph.unplaced.map((entry) => html`<h4><code>${entry.target}</code> ${steadyTag(entry.steadyState)}</h4><${Signals} signals=${entry.signals} />`)}
        </details>`
      : null}
  </section>`;
}

interface GraphProps {
  graph: NonNullable<ReturnType<typeof topologyGraph>>;
  positions: Map<string, { x: number; y: number }>;
  selected: string[];
  shown: string | undefined;
  isPlanned(node: GraphNode): boolean;
  onToggle(node: GraphNode): void;
  onShow(id: string): void;
}

function Graph({ graph, positions, selected, shown, isPlanned, onToggle, onShow }: GraphProps) {
  const at = (id: string) => positions.get(id) ?? { x: 0, y: 0 };
  const xs = graph.nodes.map((node) => at(node.id).x);
  const ys = graph.nodes.map((node) => at(node.id).y);
  const left = Math.min(...xs) - NODE_RADIUS - 10;
  const top = Math.min(...ys) - MARK_RADIUS - 16;
  const width = Math.max(...xs) + NODE_RADIUS + 10 - left;
  const height = Math.max(...ys) + NODE_RADIUS + 10 - top;
  const onKey = (node: GraphNode) => (event: KeyboardEvent) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    onToggle(node);
  };
  return html`<div class="graph-frame">
    <svg class="topology-graph" role="group" aria-label=${`The topology: ${graph.nodes.length} nodes`} viewBox=${`${left} ${top} ${width} ${height}`} width=${Math.ceil(width)} height=${Math.ceil(height)}>
      <g class="edges" aria-hidden="true">
        ${graph.edges.map((edge) => {
          const a = at(edge.source);
          const b = at(edge.target);
          return html`<line x1=${a.x} y1=${a.y} x2=${b.x} y2=${b.y} />`;
        })}
      </g>
      ${graph.nodes.map((node) => {
        const { x, y } = at(node.id);
        const tone = node.status?.tone ?? 'neutral';
        const isSelected = selected.includes(node.id);
        const planned = isPlanned(node);
        const steady = steadyWords(node.steadyState);
        const label = [node.description, node.status?.text, steady, isSelected ? 'selected' : undefined, planned ? 'the latest dry run would hit it' : undefined]
          .filter(Boolean)
          .join('; ');
        const lines = [node.status?.text, steady && (node.steadyState === true ? '✓ steady state' : node.steadyState === false ? '✗ steady state' : '? steady state'), planned ? '◎ dry run hits' : undefined].filter(
          (line): line is string => line !== undefined,
        );
        return html`<g
          class=${`node kind-${node.kind} tone-${tone}${isSelected ? ' selected' : ''}${planned ? ' planned' : ''}${node.id === shown ? ' shown' : ''}${node.target ? '' : ' untargetable'}`}
          transform=${`translate(${x} ${y})`}
          tabindex="0"
          role="button"
          aria-pressed=${node.target ? String(isSelected) : undefined}
          aria-label=${label}
          data-node=${node.id}
          onClick=${() => onToggle(node)}
          onKeyDown=${onKey(node)}
          onFocus=${() => onShow(node.id)}
        >
          ${planned ? html`<circle class="planned-ring" r=${MARK_RADIUS + 9} />` : null}
          ${isSelected ? html`<circle class="selected-ring" r=${MARK_RADIUS + 5} />` : null}
          ${GROUPS.has(node.kind)
            ? html`<rect class="mark" x=${-MARK_RADIUS} y=${-MARK_RADIUS} width=${MARK_RADIUS * 2} height=${MARK_RADIUS * 2} rx="5" />`
            : html`<circle class="mark" r=${MARK_RADIUS} />`}
          <text class="sign" y="5" aria-hidden="true">${SIGNS[tone]}</text>
          <text class="name" y=${MARK_RADIUS + 15} aria-hidden="true">${cut(node.name, 20)}</text>
          ${lines.map((line, index) => html`<text class="line" y=${MARK_RADIUS + 29 + index * 13} aria-hidden="true">${cut(line, 24)}</text>`)}
        </g>`;
      })}
    </svg>
  </div>`;
}

function Selection({
  selection,
  chosen,
  notice,
  onUse,
  onClear,
}: {
  selection: GraphNode[];
  chosen: ReturnType<typeof targetOf> | undefined;
  notice: string | undefined;
  onUse: TopologyTabProps['onSelectTargets'];
  onClear(): void;
}) {
  return html`<section class="selection" aria-labelledby="selection-title">
    <h3 id="selection-title">Selected</h3>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${selection.length === 0
      ? html`<p class="muted">Nothing yet.</p>`
      : html`<ul>${selection.map((node) => html`<li>${node.description}</li>`)}</ul>
          ${chosen && 'target' in chosen
            ? html`<p>As an experiment's target:</p>
                <pre class="target-json">${JSON.stringify(chosen.target, null, 2)}</pre>
                <div class="actions">
                  <button type="button" class="primary" onClick=${() => onUse(chosen.target)}>New experiment on this target</button>
                  <button type="button" onClick=${onClear}>Clear</button>
                </div>`
            : html`<p class="problem">${chosen?.problem}</p>`}`}
  </section>`;
}

function steadyTag(met: boolean | null | undefined) {
  if (met === undefined) return null;
  return html`<span class=${`tag ${met === true ? 'good' : met === false ? 'bad' : 'neutral'}`}><span aria-hidden="true">${met === true ? '✓ ' : met === false ? '✗ ' : '? '}</span>${steadyWords(met)}</span>`;
}

function Details({ node, planned }: { node: GraphNode; planned: boolean }) {
  return html`<section class="details" aria-labelledby="details-title" data-details=${node.id}>
    <h3 id="details-title">${node.name}</h3>
    <p>${node.description}</p>
    <p>
      ${node.status ? html`<span class=${`tag ${node.status.tone}`}><span aria-hidden="true">${SIGNS[node.status.tone]} </span>${node.status.text}</span> ` : null}
      ${steadyTag(node.steadyState)} ${planned ? html`<span class="tag info">the latest dry run would hit it</span>` : null}
    </p>
    ${node.labels && Object.keys(node.labels).length > 0
      ? html`<p class="muted">${Object.entries(node.labels).map(([key, value]) => `${key}=${value}`).join(', ')}</p>`
      : null}
    ${node.signals.length > 0
      ? html`<h4>Latest probe readings</h4><${Signals} signals=${node.signals} />`
      : html`<p class="muted">No experiment has read a probe on it yet.</p>`}
  </section>`;
}

function Signals({ signals }: { signals: Signal[] }) {
  return html`<table class="signals">
    <thead><tr><th scope="col">Probe</th><th scope="col">Reading</th><th scope="col">When</th><th scope="col">Experiment</th></tr></thead>
    <tbody>
      ${signals.map(
        (signal) => html`<tr>
          <td>${signal.probe}${signal.type ? html` <span class="muted">(${signal.type})</span>` : null}</td>
          <td>
            <span class=${`tag ${signal.within === true ? 'good' : signal.within === false ? 'bad' : 'neutral'}`}>${signal.within === true ? '✓ within tolerance' : signal.within === false ? '✗ out of tolerance' : 'no verdict'}</span>
            ${' '}${signal.reading}
          </td>
          <td>${signal.when ?? '–'}${signal.when === 'during' ? html` <span class="muted">(under the fault: not counted)</span>` : null}<div class="muted">${signal.measuredAt ? new Date(signal.measuredAt).toLocaleString() : ''}</div></td>
          <td>${signal.experiment.id ? html`<a href=${`#/experiments/${encodeURIComponent(signal.experiment.id)}`}>${signal.experiment.name || signal.experiment.id}</a>` : '–'}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}
