/**
 * The form for a new experiment: an input for every field the API's description gives the chosen chaos type (its
 * target and parameters), the safety settings and the probes (form-model.ts); or the whole experiment as YAML or JSON
 * text, for what the form does not cover (a Chaos Toolkit experiment, say). Nothing is judged here: "Check" sends the
 * experiment to POST /api/chaos/dry-run and shows each field the API refused beside its input (the rest at the top),
 * or the plan: exactly which targets it would hit. "Start" checks the same way first, and only an experiment the dry
 * run took is submitted (POST /api/chaos/experiments, with an Idempotency-Key kept while the body is the same, so a
 * second click cannot start it twice). Enter in a field is the form's submit, which only checks: for a chaos tool,
 * starting takes the Start button itself.
 *
 * What is written in the form is kept by the shell (`memory`), so going to the Topology tab to see the dry run's
 * targets and coming back finds it as it was; a draft from another tab is applied to it once, then dropped.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { parse, stringify } from 'yaml';
import { ApiError, type FieldIssue } from '../api.js';
import { html } from '../html.js';
import type { TabProps } from '../tabs.js';
import type { Accepted, DryRunPlan } from '../types.js';
import {
  applyDraft,
  emptyProbe,
  fieldsFor,
  formModel,
  fromBody,
  initialForm,
  inputPaths,
  placeIssues,
  toBody,
  type FieldSpec,
  type FieldValue,
  type FormMemory,
  type FormState,
} from './form-model.js';
import { PlanView, plannedTargets } from './plan.js';
import type { Draft } from './tab.js';

/** What a few fields take, said beside them (the API's schema gives their shape, not their meaning). */
const HINTS: Record<string, string> = {
  'target.provider': 'sandbox, locally',
  'target.selection': 'ALL, COUNT(n) or PERCENT(n)',
  'target.labels': 'key=value, comma-separated',
  'properties.url': 'http:// or https://',
};
const KIND_HINTS: Partial<Record<FieldSpec['kind'], string>> = { list: 'comma-separated', map: 'key=value, comma-separated', json: 'JSON' };

const inputId = (path: string) => `f-${path.replace(/[^\w-]+/g, '-')}`;
const randomKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');

interface FormProps extends TabProps {
  draft: Draft | undefined;
  /** Told once the form has taken the draft, so it is not applied again. */
  onDraftTaken(): void;
  /** What the form held when last left; undefined for a fresh one. */
  memory: FormMemory | undefined;
  onMemory(memory: FormMemory): void;
  onPlannedTargets(targets: readonly string[]): void;
}

export function ExperimentForm({ api, navigate, draft, onDraftTaken, memory, onMemory, onPlannedTargets }: FormProps) {
  const model = useMemo(() => formModel(api.document), [api]);
  const start = useMemo(() => initialForm(model, memory, draft), []);
  const [state, setState] = useState<FormState>(start.state);
  const [mode, setMode] = useState<'form' | 'text'>(start.mode);
  const [text, setText] = useState(start.text);
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [message, setMessage] = useState<string | undefined>();
  const [left, setLeft] = useState<string[]>(start.left);
  const [plan, setPlan] = useState<{ plan: DryRunPlan; note?: string } | undefined>();
  const [busy, setBusy] = useState<'check' | 'start' | undefined>();
  const submitted = useRef<{ key: string; body: string } | undefined>(undefined);
  const summary = useRef<HTMLDivElement>(null);
  const seenDraft = useRef(draft?.seq);

  useEffect(() => onMemory({ state, mode, text, left }), [state, mode, text, left]);

  // A draft sent while the form is open (from another tab) fills it; each is taken once.
  useEffect(() => {
    if (!draft) return;
    onDraftTaken();
    if (draft.seq === seenDraft.current) return;
    seenDraft.current = draft.seq;
    const applied = applyDraft(model, state, draft.experiment, draft.merge);
    if (applied) {
      setState(applied.state);
      setLeft(applied.left);
      setMode('form');
    } else {
      setText(stringify(draft.experiment));
      setMode('text');
    }
  }, [draft]);

  const { placed, unplaced } = useMemo(
    () => (mode === 'form' ? placeIssues(issues, inputPaths(model, state)) : { placed: new Map<string, string[]>(), unplaced: issues }),
    [issues, mode, model, state],
  );

  /** The experiment as the API will get it, and what stops it being sent at all. */
  const current = (): { body: unknown; problems: FieldIssue[] } => {
    if (mode === 'form') return toBody(model, state);
    try {
      const body: unknown = parse(text);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return { body, problems: [{ field: '', message: 'write the experiment as a YAML or JSON object (name: …, chaos_type: …)' }] };
      return { body, problems: [] };
    } catch (error) {
      return { body: undefined, problems: [{ field: '', message: `the text is not YAML or JSON: ${(error as Error).message}` }] };
    }
  };

  const refuse = (found: FieldIssue[], top: string | undefined) => {
    setIssues(found);
    setMessage(top);
    setPlan(undefined);
    onPlannedTargets([]);
    requestAnimationFrame(() => summary.current?.focus());
  };

  /** The dry run: the plan, or the API's refusal shown field by field. True when it took the experiment. */
  const check = async (body: unknown): Promise<boolean> => {
    try {
      const answer = await api.call<DryRunPlan>('dryRun', { body });
      setIssues([]);
      setMessage(undefined);
      setPlan({ plan: answer });
      onPlannedTargets(plannedTargets(answer));
      return true;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.fields.length > 0) refuse(error.fields, `The API refused ${error.fields.length === 1 ? 'a field' : `${error.fields.length} fields`}, each marked where it is written. Nothing was started.`);
      else refuse([], error.message);
      return false;
    }
  };

  const run = async (what: 'check' | 'start') => {
    const { body, problems } = current();
    if (problems.length > 0) {
      refuse(problems, 'Nothing was sent: fix what is marked first.');
      return;
    }
    setBusy(what);
    try {
      if (!(await check(body)) || what === 'check') return;
      const text = JSON.stringify(body);
      if (submitted.current?.body !== text) submitted.current = { key: randomKey(), body: text };
      const answer = await api.exchange<Accepted | DryRunPlan>('createExperiment', { body, headers: { 'Idempotency-Key': submitted.current.key } });
      if (answer.status === 202) navigate(`#/experiments/${encodeURIComponent((answer.body as Accepted).id)}`);
      else setPlan({ plan: answer.body as DryRunPlan, note: 'safety.dry_run is set, so this was only a dry run: nothing was started.' });
    } catch (error) {
      refuse(error instanceof ApiError ? error.fields : [], error instanceof ApiError ? error.message : String(error));
    } finally {
      setBusy(undefined);
    }
  };

  const toText = () => {
    setText(stringify(toBody(model, state).body));
    setMode('text');
    setIssues([]);
    setLeft([]);
  };
  const toForm = () => {
    const { body, problems } = current();
    const read = problems.length === 0 ? fromBody(model, body) : undefined;
    if (!read) {
      refuse(problems, problems.length > 0 ? 'The text cannot be read into the form.' : 'The form has no place for this experiment (a Chaos Toolkit one, or a chaos type it does not know): keep it as text.');
      return;
    }
    setState(read.state);
    setLeft(read.left);
    setMode('form');
    setIssues([]);
    setMessage(undefined);
  };

  const setValue = (path: string, value: FieldValue) => setState((s) => ({ ...s, values: { ...s.values, [path]: value } }));
  const setProbe = (index: number, change: (probe: FormState['probes'][number]) => FormState['probes'][number]) =>
    setState((s) => ({ ...s, probes: s.probes.map((probe, i) => (i === index ? change(probe) : probe)) }));

  const field = (spec: FieldSpec, path: string, value: FieldValue | undefined, onValue: (value: FieldValue) => void) =>
    html`<${Field} spec=${spec} path=${path} value=${value} errors=${placed.get(path)} onValue=${onValue} />`;
  const group = (title: string, specs: FieldSpec[]) =>
    specs.length === 0
      ? null
      : html`<fieldset>
          <legend>${title}</legend>
          <div class="grid">${specs.map((spec) => field(spec, spec.path, state.values[spec.path], (value) => setValue(spec.path, value)))}</div>
        </fieldset>`;
  const fields = fieldsFor(model, state.chaosType);
  const variant = model.variants.get(state.chaosType);
  const problemCount = issues.length;

  return html`<form class="panel" onSubmit=${(event: Event) => (event.preventDefault(), void run('check'))} aria-labelledby="new-title" novalidate>
    <div class="toolbar">
      <h2 id="new-title" tabindex="-1">New experiment</h2>
      <div class="mode-switch" role="group" aria-label="Write it as">
        <button type="button" aria-pressed=${mode === 'form'} onClick=${() => mode === 'text' && toForm()}>Form</button>
        <button type="button" aria-pressed=${mode === 'text'} onClick=${() => mode === 'form' && toText()}>YAML / JSON</button>
      </div>
    </div>
    <div ref=${summary} tabindex="-1" class="summary">
      ${message || unplaced.length > 0
        ? html`<div class="problem" role="alert">
            <p><span class="tag bad">Not accepted</span> ${message ?? `${problemCount} problem${problemCount === 1 ? '' : 's'}`}</p>
            ${unplaced.length > 0
              ? html`<ul aria-label="Problems not beside an input">
                  ${unplaced.map((issue) => html`<li><code>${issue.field || '(the experiment)'}</code>: ${issue.message}</li>`)}
                </ul>`
              : null}
          </div>`
        : null}
      ${left.length > 0 ? html`<p class="notice">The form has no input for ${left.map((path) => html`<code>${path}</code> `)}: left out. Write them in the YAML / JSON text to keep them.</p>` : null}
    </div>

    ${mode === 'text'
      ? html`<label for="f-text">The experiment, as YAML or JSON <span class="hint">(ChaosDuck's request shape, or a Chaos Toolkit experiment)</span></label>
          <textarea id="f-text" class="code" rows="22" spellcheck=${false} value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>`
      : html`
          <fieldset>
            <legend>Experiment</legend>
            <div class="grid">
              ${model.common.filter((spec) => spec.key === 'name').map((spec) => field(spec, spec.path, state.values[spec.path], (value) => setValue(spec.path, value)))}
              <div>
                <label for="f-chaos_type">chaos_type <span class="hint">(required)</span></label>
                <select id="f-chaos_type" value=${state.chaosType} onChange=${(e: Event) => setState((s) => ({ ...s, chaosType: (e.target as HTMLSelectElement).value }))}>
                  ${model.chaosTypes.map((type) => html`<option value=${type}>${type}</option>`)}
                </select>
                ${(placed.get('chaos_type') ?? []).map((text) => html`<p class="field-error">${text}</p>`)}
              </div>
              ${model.common.filter((spec) => spec.key !== 'name').map((spec) => field(spec, spec.path, state.values[spec.path], (value) => setValue(spec.path, value)))}
            </div>
          </fieldset>
          ${group('Target', variant?.target ?? [])}
          ${group('Parameters', variant?.parameters ?? [])}
          ${group('Safety', fields.filter((spec) => spec.path.startsWith('safety.')))}
          <fieldset>
            <legend>Probes</legend>
            ${state.probes.length === 0 ? html`<p class="muted">No probe: the steady state is not checked. An http probe checks a service keeps answering.</p>` : null}
            ${state.probes.map(
              (probe, index) => html`<fieldset class="probe">
                <legend>Probe ${index + 1}</legend>
                <div class="grid">
                  <div>
                    <label for=${inputId(`probes[${index}].type`)}>type</label>
                    <select
                      id=${inputId(`probes[${index}].type`)}
                      value=${probe.type}
                      onChange=${(e: Event) => setProbe(index, (p) => ({ ...p, type: (e.target as HTMLSelectElement).value }))}
                    >
                      ${[...model.probes.keys()].map((type) => html`<option value=${type}>${type}</option>`)}
                    </select>
                    ${(placed.get(`probes[${index}].type`) ?? []).map((text) => html`<p class="field-error">${text}</p>`)}
                  </div>
                  ${(model.probes.get(probe.type) ?? []).map((spec) =>
                    field(spec, `probes[${index}].${spec.path}`, probe.values[spec.path], (value) => setProbe(index, (p) => ({ ...p, values: { ...p.values, [spec.path]: value } }))),
                  )}
                </div>
                <div class="actions">
                  <button type="button" onClick=${() => setState((s) => ({ ...s, probes: s.probes.filter((_, i) => i !== index) }))}>Remove probe ${index + 1}</button>
                </div>
              </fieldset>`,
            )}
            <div class="actions"><button type="button" onClick=${() => setState((s) => ({ ...s, probes: [...s.probes, emptyProbe()] }))}>Add a probe</button></div>
          </fieldset>
        `}

    <div class="actions">
      <button type="submit" disabled=${busy !== undefined}>${busy === 'check' ? 'Checking…' : 'Check and preview (dry run)'}</button>
      <button type="button" class="primary" onClick=${() => void run('start')} disabled=${busy !== undefined}>${busy === 'start' ? 'Starting…' : 'Start the experiment'}</button>
    </div>
    ${plan ? html`<${PlanView} plan=${plan.plan} note=${plan.note} />` : null}
  </form>`;
}

/** A field's default as it would be typed into its input; undefined when there is none worth saying (empty). */
function shownDefault(spec: FieldSpec): string | undefined {
  const value = spec.default;
  if (value === undefined || value === '' || (typeof value === 'object' && value !== null && Object.keys(value).length === 0)) return undefined;
  if (spec.kind === 'list') return Array.isArray(value) ? value.join(', ') : String(value);
  if (spec.kind === 'map' && typeof value === 'object' && value !== null) return Object.entries(value).map(([k, v]) => `${k}=${String(v)}`).join(', ');
  if (spec.kind === 'json') return JSON.stringify(value);
  return String(value);
}

/** One input, labelled by the field's name as the API names it, with the API's complaints about it beside it. */
function Field({ spec, path, value, errors = [], onValue }: { spec: FieldSpec; path: string; value: FieldValue | undefined; errors?: string[]; onValue: (value: FieldValue) => void }) {
  const id = inputId(path);
  const errorId = `${id}-error`;
  const invalid = errors.length > 0;
  const messages = invalid ? html`<div id=${errorId}>${errors.map((text) => html`<p class="field-error"><span aria-hidden="true">✗ </span>${text}</p>`)}</div>` : null;
  const common = { id, 'aria-invalid': invalid ? 'true' : undefined, 'aria-describedby': invalid ? errorId : undefined };
  if (spec.kind === 'boolean') {
    return html`<div>
      <div class="check">
        <input type="checkbox" ...${common} checked=${value === undefined ? spec.default === true : value === true} onChange=${(e: Event) => onValue((e.target as HTMLInputElement).checked)} />
        <label for=${id}>${spec.key}</label>
      </div>
      ${messages}
    </div>`;
  }
  const relative = path.replace(/^probes\[\d+\]\./, '');
  const shown = shownDefault(spec);
  const hint = [spec.required ? 'required' : undefined, HINTS[relative] ?? HINTS[path] ?? KIND_HINTS[spec.kind], shown !== undefined ? `default ${shown}` : undefined]
    .filter(Boolean)
    .join('; ');
  const text = typeof value === 'string' ? value : '';
  const onInput = (e: Event) => onValue((e.target as HTMLInputElement).value);
  return html`<div class=${spec.kind === 'json' ? 'wide' : undefined}>
    <label for=${id}>${spec.key}${hint ? html` <span class="hint">(${hint})</span>` : null}</label>
    ${spec.kind === 'choice'
      ? html`<select ...${common} value=${text} onChange=${onInput}>
          <option value="">${shown !== undefined ? `(default: ${shown})` : '(none)'}</option>
          ${(spec.options ?? []).map((option) => html`<option value=${option}>${option}</option>`)}
        </select>`
      : spec.kind === 'json'
        ? html`<textarea ...${common} class="code" rows="2" spellcheck=${false} value=${text} onInput=${onInput}></textarea>`
        : html`<input
            ...${common}
            type="text"
            inputmode=${spec.kind === 'number' ? 'decimal' : undefined}
            autocomplete="off"
            spellcheck=${false}
            placeholder=${shown}
            value=${text}
            onInput=${onInput}
          />`}
    ${messages}
  </div>`;
}
