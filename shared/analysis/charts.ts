/**
 * Charts as inline SVG, drawn from plain numbers for the report page: no library, no script, no font or file to fetch,
 * so the page opens anywhere without a network and prints as it shows. Each chart has its title drawn and as the SVG's
 * `<title>` (with a `<desc>` saying what it shows, both named by `aria-labelledby`), axes with tick labels and an axis
 * label, and each data point as an element of its own carrying `data-point` and a `<title>` a pointer shows, so a
 * reader can hover over it and a test can count them.
 *
 * Every text is escaped here: callers pass what users wrote as it is. Ids are the caller's and must be safe as they are
 * (the report makes them from indexes).
 *
 * @example
 * lineChart({ id: 'p1', title: 'demo-answers latency', description: '…', x: { kind: 'elapsed', min: 0, max: 6000 },
 *   y: { label: 'latency (ms)', unit: 'ms' }, points: [{ x: 120, y: 8, failed: false, label: 'tick 1: 8 ms' }],
 *   tolerance: { kind: 'max', value: 500, label: 'at most 500 ms' } });
 */

/** Escapes text for HTML and SVG alike (element content and quoted attributes). */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const e = escapeHtml;

/** The drawing's own width: the SVG scales to the page's width from it (viewBox), so every chart lines up. */
const WIDTH = 880;
/** Roughly how wide a text is in the 12 px label font (capitals are wider), to tell whether it fits where it would go. */
const textWidth = (text: string) => [...text].reduce((width, c) => width + (c >= 'A' && c <= 'Z' ? 8.4 : 6.6), 0);

export const COLOURS = {
  axis: '#667085',
  grid: '#eaecf0',
  text: '#344054',
  line: '#175cd3',
  ok: '#175cd3',
  failed: '#d92d20',
  tolerance: '#b42318',
  toleranceBand: '#d1fadf',
  window: '#fef0c7',
  good: '#12b76a',
  bad: '#f04438',
  neutral: '#98a2b3',
  note: '#93370d',
} as const;

/** Each phase's colour on the timeline; other spans are coloured by their kind. */
const PHASE_COLOURS: Record<string, string> = {
  STEADY_STATE: '#2e90fa',
  HYPOTHESIS: '#7a5af8',
  INJECT: '#f04438',
  OBSERVE: '#f79009',
  ROLLBACK: '#12b76a',
};
const KIND_COLOURS: Record<string, string> = { fault: '#d92d20', check: '#175cd3', rollback: '#039855', recovery: '#0ba5ec' };

/** The x axis: time elapsed since a start (milliseconds, labelled in seconds) or wall-clock time (epoch ms, UTC). */
export type XAxis = { kind: 'elapsed'; min: number; max: number; label?: string } | { kind: 'time'; min: number; max: number; label?: string };

export interface ChartBase {
  /** Unique on the page; also prefixes the ids of the title and description. */
  id: string;
  title: string;
  /** What the chart shows, in a sentence, for those who cannot see it. */
  description: string;
}

/** One bar on a timeline: a phase, a fault, a check, a rollback step, a recovery. `start` and `end` in epoch ms. */
export interface Span {
  start: number;
  end: number;
  label: string;
  /** `phase` (coloured by its label), `fault`, `check`, `rollback` or `recovery`. */
  kind: string;
  failed?: boolean;
  /** More about it, shown on hover. */
  detail?: string;
}

export interface TimelineRow {
  label: string;
  spans: Span[];
}

export interface TimelineChart extends ChartBase {
  /** The experiment's start and end (epoch ms): the axis runs from 0 s at `start`. */
  start: number;
  end: number;
  rows: TimelineRow[];
}

export interface Point {
  x: number;
  /** null: the check gave no value (no series, no answer); drawn as a cross on the time axis, never as a value. */
  y: number | null;
  failed: boolean;
  /** What the point is, shown on hover. */
  label: string;
}

/** What a probe tolerates: a bound (`max`: at most, `min`: at least, `equals`) or a range, drawn over its points. */
export type Tolerance = { kind: 'max' | 'min' | 'equals'; value: number; label: string } | { kind: 'range'; from: number; to: number; label: string };

export interface LineChart extends ChartBase {
  x: XAxis;
  y: { label: string; unit?: string; min?: number; max?: number };
  points: Point[];
  tolerance?: Tolerance;
  /** A stretch of the x axis to shade (the fault in place), in the x axis' units. */
  window?: { start: number; end: number; label: string };
  /** Points joined in x order (a series over time); off for points that stand alone. @default true */
  joined?: boolean;
  /** What the legend calls the two kinds of point. @default { ok: 'within tolerance', failed: 'failed' } */
  legend?: { ok: string; failed: string };
  /** Draw about this many points at most, thinned as `thin` does (the chart says so). @default MAX_DRAWN */
  maxPoints?: number;
}

export interface Bar {
  label: string;
  /** null: nothing to measure where something was expected (a system that never recovered); drawn across the chart. */
  value: number | null;
  tone: 'good' | 'bad' | 'neutral';
  /** Written at the bar's end. */
  text: string;
  /** A mark across the bar, e.g. the recovery time the hypothesis tolerates. */
  marker?: { value: number; label: string };
}

export interface BarChart extends ChartBase {
  axisLabel: string;
  unit?: string;
  /** @default the largest value or marker */
  max?: number;
  bars: Bar[];
}

/** Ticks at round numbers (1, 2, 2.5, 5 × 10ⁿ apart) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max <= min) return [min];
  const step = niceStep((max - min) / count);
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= raw * (1 - 1e-9)) ?? 10 * power) as number;
}

/** [min, max] widened to round numbers, so the highest tick is at or above every value. */
function niceDomain(min: number, max: number, count = 5): [number, number] {
  if (max <= min) return min === 0 ? [0, 1] : [Math.min(0, min), Math.max(0, max) * 1.25 || 1];
  const step = niceStep((max - min) / count);
  return [Math.floor(min / step) * step, Math.ceil(max / step) * step];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY];

/** Tick positions and labels for an x axis. */
function xTicks(axis: XAxis): { at: number; label: string }[] {
  if (axis.kind === 'elapsed') {
    const seconds = niceTicks(axis.min / SECOND, axis.max / SECOND, 6);
    const labels = tickLabels(seconds);
    return seconds.map((s, index) => ({ at: s * SECOND, label: `${labels[index]} s` }));
  }
  const span = axis.max - axis.min;
  const step = TIME_STEPS.find((candidate) => span / candidate <= 6) ?? (TIME_STEPS.at(-1) as number);
  const ticks: { at: number; label: string }[] = [];
  for (let at = Math.ceil(axis.min / step) * step; at <= axis.max; at += step) {
    const iso = new Date(at).toISOString();
    ticks.push({ at, label: step >= DAY ? iso.slice(0, 10) : span > DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : step < MINUTE ? iso.slice(11, 19) : iso.slice(11, 16) });
  }
  return ticks;
}

const xAxisLabel = (axis: XAxis) => axis.label ?? (axis.kind === 'elapsed' ? 'seconds since the experiment started' : 'time (UTC)');

/** Formats by significant digits, made once each: a day of checks is labelled in a moment, not in seconds. */
const formats = new Map<number, Intl.NumberFormat>();

/** A number with at most `significant` significant digits, but every digit of its whole part: 1,235, 0.985, 0.002135. */
function numberText(value: number, significant: number): string {
  let format = formats.get(significant);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { maximumSignificantDigits: significant, maximumFractionDigits: 0, roundingPriority: 'morePrecision' });
    formats.set(significant, format);
  }
  return format.format(value);
}

/** 1234.5 → "1,235", 0.985 → "0.985", 0.0021345 → "0.002135": four significant digits, so a small value never reads 0. */
export function formatNumber(value: number): string {
  return numberText(value, 4);
}

/**
 * A measured value with as many digits as put it on the same side of each bound as it is (0.98549 against 0.9855
 * reads 0.98549, not 0.9855), so a failed check never reads as if it were within its tolerance.
 */
export function formatValue(value: number, bounds: readonly number[] = []): string {
  for (let significant = 4; significant <= 17; significant++) {
    const text = numberText(value, significant);
    const shown = Number(text.replace(/,/g, ''));
    if (bounds.every((bound) => Math.sign(shown - bound) === Math.sign(value - bound))) return text;
  }
  return String(value);
}

/** A bound exactly as it was given (a tolerance of 0.00001 is "0.00001", never a rounded "0"). */
export const exactNumber = (value: number): string => String(value);

/** Labels for round ticks, all with the decimals the finest of them needs, so no two read the same (0, 0.00001, 0.00002). */
export function tickLabels(ticks: readonly number[]): string[] {
  const decimals = ticks.reduce((most, tick) => Math.max(most, fractionDigits(tick)), 0);
  return ticks.map((tick) => tick.toLocaleString('en-US', { maximumFractionDigits: decimals }));
}

/** How many decimals a round number needs to be written exactly (at most 20). */
function fractionDigits(value: number): number {
  for (let digits = 0; digits < 20; digits++) if (Math.abs(Number(value.toFixed(digits)) - value) <= Math.abs(value) * 1e-9) return digits;
  return 20;
}

/** A duration in ms as a person reads it: 258 ms, 4.2 s, 2 min 5 s. */
export function formatDuration(ms: number): string {
  if (ms < SECOND) return `${Math.round(ms)} ms`;
  if (ms < MINUTE) return `${formatNumber(Math.round(ms / 100) / 10)} s`;
  const minutes = Math.floor(ms / MINUTE);
  const seconds = Math.round((ms % MINUTE) / SECOND);
  return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

const truncate = (text: string, chars: number) => (text.length > chars ? `${text.slice(0, chars - 1)}…` : text);
const px = (value: number) => Number(value.toFixed(1));

/** The scale from a domain to pixels. */
const scale = (domain: [number, number], range: [number, number]) => (value: number) =>
  domain[1] === domain[0] ? (range[0] + range[1]) / 2 : range[0] + ((value - domain[0]) / (domain[1] - domain[0])) * (range[1] - range[0]);

/** The SVG around a chart's body; `note` (what was left out of the drawing) is written under it and in the description. */
function frame(chart: ChartBase, kind: string, height: number, body: string, note?: string): string {
  const { id } = chart;
  const total = note ? height + 18 : height;
  const noted = note ? `<text class="thinned" x="8" y="${height + 8}" fill="${COLOURS.note}">${e(note)}</text>` : '';
  return (
    `<svg id="${id}" class="chart chart-${kind}" role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${WIDTH} ${total}" width="${WIDTH}" height="${total}">` +
    `<title id="${id}-title">${e(chart.title)}</title><desc id="${id}-desc">${e(note ? `${chart.description} ${note}` : chart.description)}</desc>` +
    `<text class="chart-title" x="8" y="18" font-weight="600" font-size="14" fill="${COLOURS.text}">${e(chart.title)}</text>${body}${noted}</svg>`
  );
}

/** About how many points or bars one chart draws at most: a day of checks every second would make a page of megabytes. */
export const MAX_DRAWN = 1000;

export interface Thinning<T> {
  /** At most about this many kept. */
  max: number;
  /** Equal stretches of time each kept group is chosen in. */
  stretches: number;
  x: (item: T) => number;
  failed: (item: T) => boolean;
  /** Which of one stretch's items (all failed, or all not) to keep: the lowest and the highest, say. */
  pick: (group: T[]) => T[];
}

/**
 * At most about `max` of `items`, in x order, chosen so a chart still shows what matters: every failed one while they
 * take no more than half of `max` (else those `pick` keeps of them in each stretch of time), and of the others those
 * `pick` keeps in each stretch. The first and the last are kept, so the chart spans the same time. `everyFailed` says
 * whether every failed one was kept.
 */
export function thin<T>(items: readonly T[], { max, stretches, x, failed, pick }: Thinning<T>): { kept: T[]; everyFailed: boolean } {
  const ordered = [...items].sort((a, b) => x(a) - x(b));
  if (ordered.length <= max) return { kept: ordered, everyFailed: true };
  const first = x(ordered[0] as T);
  const width = (x(ordered.at(-1) as T) - first) / stretches || 1;
  const everyFailed = ordered.filter(failed).length <= max / 2;
  const kept = new Set<T>([ordered[0] as T, ordered.at(-1) as T]);
  const groups = new Map<string, T[]>();
  for (const item of ordered) {
    const bad = failed(item);
    if (bad && everyFailed) {
      kept.add(item);
      continue;
    }
    const key = `${bad ? 'failed' : 'ok'} ${Math.min(stretches - 1, Math.floor((x(item) - first) / width))}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  for (const group of groups.values()) for (const item of pick(group)) kept.add(item);
  return { kept: ordered.filter((item) => kept.has(item)), everyFailed };
}

/** Of one stretch's points: the lowest and the highest value, and the first without one. */
function extremes(points: Point[]): Point[] {
  let low: Point | undefined;
  let high: Point | undefined;
  for (const point of points) {
    if (point.y === null) continue;
    if (!low || point.y < (low.y as number)) low = point;
    if (!high || point.y > (high.y as number)) high = point;
  }
  return [low, high, points.find((point) => point.y === null)].filter((point): point is Point => point !== undefined);
}

/** What a chart says when it drew fewer than it was given. */
const thinnedNote = (drawn: number, total: number, what: string, how: string) => `Thinned: ${formatNumber(drawn)} of ${formatNumber(total)} ${what} drawn (${how}).`;

/** A legend at the top right, ending at `right`: a swatch (drawn in a 14 px box) and a text per entry. */
function legendOf(entries: { swatch: string; text: string }[], right: number): string {
  const widths = entries.map((entry) => 26 + textWidth(entry.text));
  let x = right - widths.reduce((sum, width) => sum + width, 0);
  const items = entries.map((entry, index) => {
    const item = `<g transform="translate(${px(x)} 18)">${entry.swatch}<text x="18" y="0" fill="${COLOURS.text}">${e(entry.text)}</text></g>`;
    x += widths[index] as number;
    return item;
  });
  return `<g class="legend">${items.join('')}</g>`;
}

/** The bottom axis: its line, ticks with grid lines up to `top`, tick labels and the axis label. */
function bottomAxis(ticks: { at: number; label: string }[], x: (value: number) => number, { left, right, top, bottom }: { left: number; right: number; top: number; bottom: number }, label: string): string {
  const marks = ticks
    .map(({ at, label: text }) => {
      const position = px(x(at));
      return `<line x1="${position}" x2="${position}" y1="${top}" y2="${bottom}" stroke="${COLOURS.grid}"/><line x1="${position}" x2="${position}" y1="${bottom}" y2="${bottom + 5}" stroke="${COLOURS.axis}"/><text x="${position}" y="${bottom + 18}" text-anchor="middle" fill="${COLOURS.text}">${e(text)}</text>`;
    })
    .join('');
  return `<g class="axis axis-x">${marks}<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="${COLOURS.axis}"/><text class="axis-label" x="${px((left + right) / 2)}" y="${bottom + 36}" text-anchor="middle" fill="${COLOURS.axis}">${e(label)}</text></g>`;
}

/**
 * A timeline: one row per kind of thing (phases, faults, checks, rollback steps, recoveries), each a bar from its
 * start to its end on a shared axis of seconds since the experiment started. Instant things get a thin bar. A row of
 * more than `MAX_DRAWN` bars is thinned (every failed one while they fit, and the longest of the others in each
 * stretch of time), and the chart says so.
 */
export function timelineChart(chart: TimelineChart): string {
  const notes: string[] = [];
  const rows = chart.rows
    .filter((row) => row.spans.length > 0)
    .map((row) => {
      const { kept, everyFailed } = thin(row.spans, { max: MAX_DRAWN, stretches: MAX_DRAWN / 2, x: (span) => span.start, failed: (span) => span.failed === true, pick: longest });
      const how = everyFailed ? 'every failed one, and the longest of the others in each stretch of time' : 'the longest failed one and the longest other in each stretch of time';
      if (kept.length < row.spans.length) notes.push(thinnedNote(kept.length, row.spans.length, row.label.toLowerCase(), how));
      return { ...row, spans: kept };
    });
  const left = 150;
  const right = WIDTH - 20;
  const top = 34;
  const rowHeight = 30;
  const bottom = top + rows.length * rowHeight;
  const axis: XAxis = { kind: 'elapsed', min: 0, max: Math.max(chart.end - chart.start, 1) };
  const x = scale([axis.min, axis.max], [left, right]);
  const at = (time: number) => x(Math.min(Math.max(time - chart.start, axis.min), axis.max));
  const body = rows
    .map((row, index) => {
      const y = top + index * rowHeight;
      const bars = row.spans
        .map((span) => {
          const x1 = at(span.start);
          const width = Math.max(at(span.end) - x1, 3);
          const colour = span.kind === 'phase' ? (PHASE_COLOURS[span.label] ?? COLOURS.neutral) : (KIND_COLOURS[span.kind] ?? COLOURS.neutral);
          const status = span.failed ? 'failed' : 'ok';
          const tip = `${span.label}${span.failed ? ' (failed)' : ''}: +${formatNumber((span.start - chart.start) / SECOND)} s, ${formatDuration(Math.max(span.end - span.start, 0))}${span.detail ? ` — ${span.detail}` : ''}`;
          const fits = width > textWidth(span.label) + 8;
          return (
            `<g class="span span-${e(span.kind)} ${status}"><rect data-point="${e(span.kind)}" data-status="${status}" x="${px(x1)}" y="${y + 6}" width="${px(width)}" height="18" rx="2" fill="${colour}"` +
            `${span.failed ? ` stroke="${COLOURS.failed}" stroke-width="2" fill-opacity="0.55"` : ''}><title>${e(tip)}</title></rect>` +
            `${fits ? `<text x="${px(x1 + 4)}" y="${y + 19}" fill="#ffffff" pointer-events="none">${e(span.label)}</text>` : ''}</g>`
          );
        })
        .join('');
      return `<g class="row"><text x="${left - 8}" y="${y + 19}" text-anchor="end" fill="${COLOURS.text}">${e(truncate(row.label, 22))}</text>${bars}</g>`;
    })
    .join('');
  const phases = [...new Set(rows.flatMap((row) => row.spans.filter((span) => span.kind === 'phase').map((span) => span.label)))];
  const legend = legendOf(phases.map((phase) => ({ swatch: `<rect x="0" y="-10" width="12" height="12" rx="2" fill="${PHASE_COLOURS[phase] ?? COLOURS.neutral}"/>`, text: phase })), right);
  return frame(chart, 'timeline', bottom + 46, bottomAxis(xTicks(axis), x, { left, right, top, bottom }, xAxisLabel(axis)) + body + legend, notes.join(' ') || undefined);
}

/** Of one stretch's spans, the longest. */
const longest = (spans: Span[]): Span[] => [spans.reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a))];

/**
 * Values over time (a probe's latency or its value, scores over dates): each a point, joined in time order, failed
 * ones in red and larger; the tolerance drawn across (a dashed line for a bound, a band for a range), and the stretch
 * the fault was in place shaded.
 */
export function lineChart(chart: LineChart): string {
  const left = 72;
  const right = WIDTH - 24;
  const top = 40;
  const bottom = 210;
  const tolerance = chart.tolerance;
  const bounds = tolerance ? (tolerance.kind === 'range' ? [tolerance.from, tolerance.to] : [tolerance.value]) : [];
  // By a loop: a day of checks is more arguments than Math.max(...) takes.
  let [lowest, highest] = [0, 0];
  for (const value of [...bounds, ...chart.points.map((p) => p.y)]) {
    if (value === null) continue;
    if (value < lowest) lowest = value;
    if (value > highest) highest = value;
  }
  // Headroom above the highest value or bound, so a tolerance line never sits on the chart's top edge.
  const [yMin, yMax] = niceDomain(chart.y.min ?? lowest, chart.y.max ?? highest + Math.abs(highest) * 0.1);
  const y = scale([yMin, yMax], [bottom, top]);
  const xAxis = chart.x;
  const x = scale([xAxis.min, xAxis.max], [left + 8, right - 8]);
  const clampY = (value: number) => y(Math.min(Math.max(value, yMin), yMax));
  const unit = chart.y.unit ? ` ${chart.y.unit}` : '';
  const max = chart.maxPoints ?? MAX_DRAWN;
  const { kept: ordered, everyFailed } = thin(chart.points, { max, stretches: Math.max(1, Math.floor(max / 5)), x: (p) => p.x, failed: (p) => p.failed, pick: extremes });

  const ticksY = niceTicks(yMin, yMax, 4);
  const labelsY = tickLabels(ticksY);
  const yTicks = ticksY
    .map((tick, index) => `<line x1="${left}" x2="${right}" y1="${px(y(tick))}" y2="${px(y(tick))}" stroke="${COLOURS.grid}"/><text x="${left - 6}" y="${px(y(tick) + 4)}" text-anchor="end" fill="${COLOURS.text}">${e(labelsY[index] as string)}</text>`)
    .join('');
  const yAxis = `<g class="axis axis-y">${yTicks}<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="${COLOURS.axis}"/><text class="axis-label" transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill="${COLOURS.axis}">${e(chart.y.label)}</text></g>`;

  let shaded = '';
  if (chart.window) {
    const x1 = x(Math.max(chart.window.start, xAxis.min));
    const x2 = x(Math.min(chart.window.end, xAxis.max));
    shaded = `<g class="fault-window"><rect x="${px(x1)}" y="${top}" width="${px(Math.max(x2 - x1, 2))}" height="${bottom - top}" fill="${COLOURS.window}"/><text x="${px(x1 + 4)}" y="${top + 12}" fill="#93370d">${e(chart.window.label)}</text></g>`;
  }

  let tolerated = '';
  if (tolerance) {
    const title = `<title>${e(`tolerance: ${tolerance.label}`)}</title>`;
    if (tolerance.kind === 'range') {
      const y1 = clampY(tolerance.to);
      const y2 = clampY(tolerance.from);
      tolerated =
        `<g class="tolerance" data-tolerance="range"><rect x="${left}" y="${px(y1)}" width="${right - left}" height="${px(Math.max(y2 - y1, 1))}" fill="${COLOURS.toleranceBand}" fill-opacity="0.6">${title}</rect>` +
        `<line x1="${left}" x2="${right}" y1="${px(y1)}" y2="${px(y1)}" stroke="${COLOURS.tolerance}" stroke-dasharray="6 4"/><line x1="${left}" x2="${right}" y1="${px(y2)}" y2="${px(y2)}" stroke="${COLOURS.tolerance}" stroke-dasharray="6 4"/>` +
        `<text x="${right - 4}" y="${px(y1 - 4)}" text-anchor="end" fill="${COLOURS.tolerance}">${e(tolerance.label)}</text></g>`;
    } else {
      const level = px(clampY(tolerance.value));
      tolerated =
        `<g class="tolerance" data-tolerance="${tolerance.kind}"><line x1="${left}" x2="${right}" y1="${level}" y2="${level}" stroke="${COLOURS.tolerance}" stroke-width="1.5" stroke-dasharray="6 4">${title}</line>` +
        `<text x="${right - 4}" y="${px(level - 5)}" text-anchor="end" fill="${COLOURS.tolerance}">${e(tolerance.label)}</text></g>`;
    }
  }

  // The line joins the values in time order and breaks where a check gave none.
  const segments: string[] = [];
  let run: string[] = [];
  for (const p of [...ordered, null]) {
    if (p && p.y !== null) run.push(`${px(x(p.x))},${px(clampY(p.y))}`);
    else {
      if (run.length > 1) segments.push(`M${run.join('L')}`);
      run = [];
    }
  }
  const path =
    chart.joined !== false && segments.length > 0 ? `<path class="series-line" d="${segments.join('')}" fill="none" stroke="${COLOURS.line}" stroke-width="1.5" stroke-opacity="0.6"/>` : '';
  const points = ordered
    .map((p) => {
      const cx = px(x(p.x));
      const status = p.failed ? 'failed' : 'ok';
      const colour = p.failed ? COLOURS.failed : COLOURS.ok;
      if (p.y === null) {
        return `<path class="point no-value ${status}" data-point="no-value" data-status="${status}" d="${cross(cx, bottom)}" stroke="${colour}" stroke-width="2.5"><title>${e(p.label)}</title></path>`;
      }
      return `<circle class="point${p.failed ? ' failed' : ''}" data-point="${status}" cx="${cx}" cy="${px(clampY(p.y))}" r="${p.failed ? 5.5 : 4}" fill="${colour}" stroke="#ffffff" stroke-width="1.5"><title>${e(p.label)}</title></circle>`;
    })
    .join('');
  // Counted over every point given, drawn or not.
  const counts = { ok: 0, failed: 0, none: 0 };
  for (const p of chart.points) counts[p.y === null ? 'none' : p.failed ? 'failed' : 'ok'] += 1;
  const names = chart.legend ?? { ok: 'within tolerance', failed: 'failed' };
  const legend = legendOf(
    [
      { swatch: `<circle cx="5" cy="-4" r="4" fill="${COLOURS.ok}"/>`, text: `${formatNumber(counts.ok)} ${names.ok}` },
      { swatch: `<circle cx="5" cy="-4" r="5" fill="${COLOURS.failed}"/>`, text: `${formatNumber(counts.failed)} ${names.failed}` },
      ...(counts.none > 0 ? [{ swatch: `<path d="${cross(5, -4)}" stroke="${COLOURS.failed}" stroke-width="2.5"/>`, text: `${formatNumber(counts.none)} no value` }] : []),
      ...(tolerance ? [{ swatch: `<line x1="0" x2="14" y1="-4" y2="-4" stroke="${COLOURS.tolerance}" stroke-dasharray="4 3"/>`, text: 'tolerance' }] : []),
    ],
    right,
  );
  const axisLabel = `${xAxisLabel(xAxis)}${unit && !chart.y.label.includes(unit.trim()) ? `; values in${unit}` : ''}`;
  const body = bottomAxis(xTicks(xAxis), x, { left, right, top, bottom }, axisLabel) + shaded + yAxis + tolerated + path + points + legend;
  const how = everyFailed ? 'every failed point, and the lowest and highest of the others in each stretch of time' : 'in each stretch of time, the lowest and highest of the failed points and of the others';
  const note = ordered.length < chart.points.length ? thinnedNote(ordered.length, chart.points.length, 'points', how) : undefined;
  return frame(chart, 'line', bottom + 46, body, note);
}

/** A cross centred on (x, y): a check that gave no value, on the time axis where no value can be mistaken for one. */
const cross = (x: number, y: number) => `M${px(x - 5)} ${px(y - 5)}L${px(x + 5)} ${px(y + 5)}M${px(x - 5)} ${px(y + 5)}L${px(x + 5)} ${px(y - 5)}`;

/**
 * Horizontal bars, one per row (a score per experiment, a recovery time per fault), each with its value written at its
 * end and an optional mark across it (what was expected). A bar with no value is drawn as an outline across the whole
 * chart, labelled with its text (e.g. "did not recover").
 */
export function barChart(chart: BarChart): string {
  const left = 210;
  const right = WIDTH - 150;
  const top = 34;
  const rowHeight = 30;
  const bottom = top + chart.bars.length * rowHeight;
  const largest = Math.max(0, ...chart.bars.flatMap((bar) => [bar.value ?? 0, bar.marker?.value ?? 0]));
  const [, max] = chart.max === undefined ? niceDomain(0, largest) : [0, chart.max];
  const x = scale([0, max], [left, right]);
  const unit = chart.unit ? ` ${chart.unit}` : '';
  const at = niceTicks(0, max, 5);
  const labels = tickLabels(at);
  const ticks = at.map((value, index) => ({ at: value, label: `${labels[index]}${unit}` }));
  const tones = { good: COLOURS.good, bad: COLOURS.bad, neutral: COLOURS.neutral };
  const body = chart.bars
    .map((bar, index) => {
      const y = top + index * rowHeight;
      const label = `<text x="${left - 8}" y="${y + 19}" text-anchor="end" fill="${COLOURS.text}">${e(truncate(bar.label, 30))}<title>${e(bar.label)}</title></text>`;
      const tip = `<title>${e(`${bar.label}: ${bar.text}`)}</title>`;
      const shape =
        bar.value === null
          ? `<rect class="bar missing" data-point="missing" x="${left}" y="${y + 6}" width="${right - left}" height="18" fill="none" stroke="${tones[bar.tone]}" stroke-width="1.5" stroke-dasharray="4 3">${tip}</rect>`
          : `<rect class="bar" data-point="${bar.tone}" x="${left}" y="${y + 6}" width="${px(Math.max(x(Math.min(bar.value, max)) - left, 2))}" height="18" rx="2" fill="${tones[bar.tone]}">${tip}</rect>`;
      const textX = bar.value === null ? right + 6 : px(Math.max(x(Math.min(bar.value, max)), left + 2) + 6);
      const marker = bar.marker
        ? `<line class="expectation" data-expected="${bar.marker.value}" x1="${px(x(Math.min(bar.marker.value, max)))}" x2="${px(x(Math.min(bar.marker.value, max)))}" y1="${y + 2}" y2="${y + 28}" stroke="${COLOURS.text}" stroke-width="2"><title>${e(bar.marker.label)}</title></line>`
        : '';
      return `<g class="row">${label}${shape}${marker}<text x="${textX}" y="${y + 19}" fill="${COLOURS.text}">${e(bar.text)}</text></g>`;
    })
    .join('');
  const marked = chart.bars.find((bar) => bar.marker);
  const legend = marked ? legendOf([{ swatch: `<line x1="6" x2="6" y1="-12" y2="2" stroke="${COLOURS.text}" stroke-width="2"/>`, text: 'expected' }], right) : '';
  return frame(chart, 'bar', bottom + 46, bottomAxis(ticks, x, { left, right, top, bottom }, chart.axisLabel) + body + legend);
}
