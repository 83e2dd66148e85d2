/**
 * The SVG charts: one element per data point (counted by `data-point`), the tolerance drawn where the values are, an
 * accessible name, axes with their labels, everything users wrote escaped, and well-formed XML (read back by a real
 * XML parser).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { barChart, formatNumber, formatValue, lineChart, niceTicks, thin, tickLabels, timelineChart, type Point } from '../../../shared/analysis/charts.js';

const count = (svg: string, pattern: RegExp) => [...svg.matchAll(pattern)].length;
const points = (svg: string) => count(svg, /data-point="/g);
/** The attribute of the element that carries `marker`. */
const attributeOf = (svg: string, marker: string, attribute: string) => {
  const tag = new RegExp(`<[^>]*${marker}[^>]*>`).exec(svg)?.[0] ?? '';
  return Number(new RegExp(`\\s${attribute}="([-\\d.]+)"`).exec(tag)?.[1]);
};

/** What Python's ElementTree reads in the SVG: its root's tag and accessible name, and the data points it finds. */
function parsed(svg: string): { tag: string; role: string; labelledBy: string; title: string; points: number } {
  const script = [
    'import sys, json, xml.etree.ElementTree as ET',
    'root = ET.fromstring(sys.stdin.read())',
    'title = root.find("title")',
    'print(json.dumps({"tag": root.tag, "role": root.get("role"), "labelledBy": root.get("aria-labelledby"), "title": title.text, "points": len([e for e in root.iter() if "data-point" in e.attrib])}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script], { input: svg, encoding: 'utf8' }));
}

const latency = lineChart({
  id: 'p1',
  title: 'demo-answers: latency of each check',
  description: 'three checks',
  x: { kind: 'elapsed', min: 0, max: 6000 },
  y: { label: 'latency (ms)', unit: 'ms', min: 0 },
  points: [
    { x: 100, y: 8, failed: false, label: 'tick 1: 8 ms' },
    { x: 2100, y: 720, failed: true, label: 'tick 2: 720 ms — failed' },
    { x: 4100, y: 12, failed: false, label: 'tick 3: 12 ms' },
  ],
  tolerance: { kind: 'max', value: 500, label: 'at most 500 ms' },
  window: { start: 50, end: 5000, label: 'fault in place' },
});

describe('line chart', () => {
  it('draws each check as a point, failed ones marked, and the tolerance line between the values it separates', () => {
    expect(points(latency)).toBe(3);
    expect(count(latency, /data-point="failed"/g)).toBe(1);
    expect(latency).toContain('data-tolerance="max"');
    // Up is smaller y: the failed 720 ms check sits above the 500 ms line, the 8 ms one below it.
    const line = attributeOf(latency, 'stroke-dasharray="6 4"', 'y1');
    const failed = attributeOf(latency, 'data-point="failed"', 'cy');
    const fine = attributeOf(latency, 'data-point="ok"', 'cy');
    expect(failed).toBeLessThan(line);
    expect(fine).toBeGreaterThan(line);
    expect(latency).toContain('class="fault-window"');
  });

  it('has a title, a description and labelled axes, and is an accessible, well-formed SVG', () => {
    const svg = parsed(latency);

    expect(svg).toEqual({ tag: 'svg', role: 'img', labelledBy: 'p1-title p1-desc', title: 'demo-answers: latency of each check', points: 3 });
    expect(latency).toContain('<desc id="p1-desc">three checks</desc>');
    expect(latency).toContain('>latency (ms)</text>');
    expect(latency).toContain('>seconds since the experiment started</text>');
    expect(latency).toMatch(/>0 s<\/text>.*>2 s<\/text>.*>4 s<\/text>.*>6 s<\/text>/);
  });

  it('draws a range tolerance as a band, and a check with no value as a cross on the time axis, never as a value', () => {
    const svg = lineChart({
      id: 'v',
      title: 'error ratio',
      description: 'd',
      x: { kind: 'elapsed', min: 0, max: 1000 },
      y: { label: 'value' },
      points: [
        { x: 0, y: 0.5, failed: false, label: 'a' },
        { x: 250, y: 0.55, failed: false, label: 'b' },
        { x: 500, y: null, failed: true, label: 'error ratio during the fault: no value — failed: the query returned no series' },
        { x: 750, y: 0.6, failed: false, label: 'c' },
        { x: 1000, y: 0.65, failed: false, label: 'd' },
      ],
      tolerance: { kind: 'range', from: 0.2, to: 0.8, label: 'within [0.2, 0.8]' },
    });

    expect(svg).toContain('data-tolerance="range"');
    expect(points(svg)).toBe(5);
    // Not a circle at some height: a cross centred on the x axis (y 210), in the failed colour, that says why on hover.
    const none = /<path class="point no-value failed" data-point="no-value" data-status="failed" d="M([\d.]+) ([\d.]+)L[^"]*"[^>]*><title>([^<]*)<\/title>/.exec(svg);
    expect(none?.[2]).toBe('205');
    expect(none?.[3]).toBe('error ratio during the fault: no value — failed: the query returned no series');
    expect(count(svg, /<circle class="point/g)).toBe(4);
    expect(svg).toContain('>1 no value</text>');
    // The line breaks where the check gave no value, rather than dropping to 0.
    expect(/class="series-line" d="([^"]*)"/.exec(svg)?.[1]).toMatch(/^M[\d.]+,[\d.]+L[\d.]+,[\d.]+M[\d.]+,[\d.]+L[\d.]+,[\d.]+$/);
  });

  it('writes small values with their significant digits: distinct tick labels, never "0" for what is not 0', () => {
    const svg = lineChart({
      id: 's',
      title: 'scrape-duration: value of each check',
      description: 'd',
      x: { kind: 'elapsed', min: 0, max: 3000 },
      y: { label: 'value' },
      points: [0.00213, 0.0031, 0.0042].map((y, i) => ({ x: i * 1000, y, failed: true, label: `check ${i}: ${formatValue(y, [0.00001])} — failed` })),
      tolerance: { kind: 'max', value: 0.00001, label: '< 0.00001' },
    });

    const yLabels = [...(/<g class="axis axis-y">(.*?)<\/g>/.exec(svg)?.[1] ?? '').matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(yLabels).toEqual(['0', '0.002', '0.004', 'value']);
    expect(svg).toContain('>&lt; 0.00001</text>');
    expect(svg).toContain('<title>check 0: 0.00213 — failed</title>');
  });

  it('labels wall-clock ticks in UTC, by the minute within a day', () => {
    const start = Date.parse('2026-03-01T10:00:00Z');
    const svg = lineChart({
      id: 't',
      title: 'trend',
      description: 'd',
      x: { kind: 'time', min: start, max: start + 10 * 60_000 },
      y: { label: 'resilience score', min: 0, max: 100 },
      points: [{ x: start + 60_000, y: 80, failed: false, label: 'a' }],
    });

    expect(svg).toContain('>10:00</text>');
    expect(svg).toContain('>10:10</text>');
    expect(svg).toContain('>time (UTC)</text>');
  });
});

describe('timeline chart', () => {
  const start = Date.parse('2026-03-01T10:00:00Z');
  const svg = timelineChart({
    id: 'x1-timeline',
    title: 'web: timeline',
    description: 'd',
    start,
    end: start + 10_000,
    rows: [
      { label: 'Phases', spans: [{ start, end: start + 2000, label: 'STEADY_STATE', kind: 'phase' }, { start: start + 2000, end: start + 9000, label: 'OBSERVE', kind: 'phase', failed: true }] },
      { label: 'Faults', spans: [{ start: start + 2100, end: start + 2100, label: 'pod_delete web-1', kind: 'fault' }] },
      { label: 'Rollback steps', spans: [] },
      { label: 'Recovery', spans: [{ start: start + 2100, end: start + 60_000, label: 'web-1', kind: 'recovery' }] },
    ],
  });

  it('draws a bar per span, instants too, and leaves out rows with nothing in them', () => {
    expect(points(svg)).toBe(4);
    expect(count(svg, /data-status="failed"/g)).toBe(1);
    expect(svg).not.toContain('Rollback steps');
    // An instant still shows; a span past the end stops at the axis' end.
    expect(attributeOf(svg, 'data-point="fault"', 'width')).toBe(3);
    const recoveryEnd = attributeOf(svg, 'data-point="recovery"', 'x') + attributeOf(svg, 'data-point="recovery"', 'width');
    expect(recoveryEnd).toBeCloseTo(860, 0);
    expect(parsed(svg).points).toBe(4);
  });

  it('names each phase in a legend', () => {
    expect(svg).toContain('>STEADY_STATE</text>');
    expect(svg).toContain('>OBSERVE</text>');
  });

  it('thins a row of more bars than it can show, keeping every failed one, and says so', () => {
    const checks = Array.from({ length: 20_000 }, (_, i) => ({ start: start + i * 1000, end: start + i * 1000 + 20, label: 'home', kind: 'check', failed: i % 1000 === 1 }));

    const long = timelineChart({ id: 'l', title: 'long: timeline', description: 'd', start, end: start + 20_000_000, rows: [{ label: 'Probe checks', spans: checks }] });

    expect(points(long)).toBeLessThanOrEqual(1000);
    expect(count(long, /data-status="failed"/g)).toBe(20);
    expect(long).toMatch(/>Thinned: [\d,]+ of 20,000 probe checks drawn \(every failed one, and the longest of the others in each stretch of time\)\.<\/text>/);
  });
});

describe('bar chart', () => {
  it('draws one bar per row, a bar with no value across the chart, and the expectation as a mark', () => {
    const svg = barChart({
      id: 'r',
      title: 'recovery',
      description: 'd',
      axisLabel: 'recovery time (ms)',
      unit: 'ms',
      bars: [
        { label: 'web-1', value: 1200, tone: 'good', text: '1.2 s', marker: { value: 4000, label: 'expected within 4 s' } },
        { label: 'web-2', value: null, tone: 'bad', text: 'did not recover', marker: { value: 4000, label: 'expected within 4 s' } },
      ],
    });

    expect(points(svg)).toBe(2);
    expect(svg).toContain('data-point="missing"');
    expect(count(svg, /data-expected="4000"/g)).toBe(2);
    expect(svg).toContain('>recovery time (ms)</text>');
    expect(parsed(svg).points).toBe(2);
  });
});

describe('escaping', () => {
  it('escapes every text users wrote: titles, labels, descriptions, hover texts', () => {
    const evil = '<script>alert("x")</script>&';
    const svg = barChart({ id: 'e', title: evil, description: evil, axisLabel: evil, bars: [{ label: evil, value: 1, tone: 'neutral', text: evil }] });
    const line = lineChart({ id: 'l', title: evil, description: evil, x: { kind: 'elapsed', min: 0, max: 1 }, y: { label: evil }, points: [{ x: 0, y: 1, failed: false, label: evil }], tolerance: { kind: 'max', value: 1, label: evil } });

    for (const chart of [svg, line]) {
      expect(chart).not.toContain('<script');
      expect(chart).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;');
      expect(parsed(chart).title).toBe(evil);
    }
  });
});

describe('numbers', () => {
  it('keeps four significant digits, and every digit of a whole part', () => {
    expect([0, 0.00213456, 0.985, 12.3456, 717, 1234.5, 86_402].map(formatNumber)).toEqual(['0', '0.002135', '0.985', '12.35', '717', '1,235', '86,402']);
  });

  it('writes a value with the digits that put it on its own side of each bound', () => {
    expect(formatValue(0.985, [0.99, 1])).toBe('0.985');
    expect(formatValue(0.98549, [0.9855])).toBe('0.98549');
    expect(formatValue(0.99999, [0.99999])).toBe('0.99999');
    expect(formatValue(1000.4, [1000])).toBe('1,000.4');
    expect(formatValue(0.31126235500000077, [0.25])).toBe('0.3113');
  });

  it('labels ticks with the decimals the finest needs, so no two read the same', () => {
    expect(tickLabels([0, 0.00001, 0.00002])).toEqual(['0', '0.00001', '0.00002']);
    expect(tickLabels([0, 2.5, 5, 7.5])).toEqual(['0', '2.5', '5', '7.5']);
    expect(tickLabels([1_000_000, 1_000_002])).toEqual(['1,000,000', '1,000,002']);
  });
});

describe('thinning', () => {
  const at = (x: number, y: number | null, failed = false): Point => ({ x, y, failed, label: `${x}` });

  it('keeps every failed point, the lowest and highest of the others in each stretch of time, the first and the last', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => at(i, i === 5000 ? 999 : i === 7000 ? -5 : i % 10, i % 1000 === 3));
    const pick = (points: Point[]) => [points.reduce((a, b) => ((b.y ?? 0) < (a.y ?? 0) ? b : a)), points.reduce((a, b) => ((b.y ?? 0) > (a.y ?? 0) ? b : a))];

    const { kept, everyFailed } = thin(many, { max: 100, stretches: 20, x: (p) => p.x, failed: (p) => p.failed, pick });

    expect(everyFailed).toBe(true);
    expect(kept.length).toBeLessThanOrEqual(100);
    expect(kept.filter((p) => p.failed).map((p) => p.x)).toEqual([3, 1003, 2003, 3003, 4003, 5003, 6003, 7003, 8003, 9003]);
    expect(kept.map((p) => p.x)).toEqual(expect.arrayContaining([0, 5000, 7000, 9999]));
    expect(kept.map((p) => p.x)).toEqual([...kept.map((p) => p.x)].sort((a, b) => a - b));
  });

  it('thins the failed points too when they are more than half of what may be drawn, and says so', () => {
    const { kept, everyFailed } = thin(Array.from({ length: 10_000 }, (_, i) => at(i, i, true)), { max: 100, stretches: 20, x: (p) => p.x, failed: (p) => p.failed, pick: (g) => [g[0] as Point] });

    expect(everyFailed).toBe(false);
    expect(kept.length).toBeLessThanOrEqual(22);
  });

  it('leaves a chart of few points as it is', () => {
    const few = [at(2, 1), at(1, 2)];
    expect(thin(few, { max: 100, stretches: 20, x: (p) => p.x, failed: (p) => p.failed, pick: () => [] })).toEqual({ kept: [few[1], few[0]], everyFailed: true });
  });

  it('draws about a thousand of a day of checks, says how many of how many, and counts them all in the legend', () => {
    const day = Array.from({ length: 86_400 }, (_, i) => at(i * 1000, i % 500 === 0 ? 900 : 10 + (i % 7), i % 500 === 0));

    const svg = lineChart({ id: 'd', title: 'home: latency of each check', description: 'A day.', x: { kind: 'elapsed', min: 0, max: 86_400_000 }, y: { label: 'latency (ms)', unit: 'ms', min: 0 }, points: day, tolerance: { kind: 'max', value: 500, label: 'at most 500 ms' } });

    expect(points(svg)).toBeLessThanOrEqual(1000);
    expect(count(svg, /data-point="failed"/g)).toBe(173);
    expect(svg).toMatch(/>Thinned: [\d,]+ of 86,400 points drawn \(every failed point, and the lowest and highest of the others in each stretch of time\)\.<\/text>/);
    expect(svg).toContain('>86,227 within tolerance</text>');
    expect(parsed(svg).points).toBe(points(svg));
  });
});

describe('ticks', () => {
  it('falls on round numbers covering the range', () => {
    expect(niceTicks(0, 6.1)).toEqual([0, 2, 4, 6]);
    expect(niceTicks(0, 100, 4)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(0, 0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0, 0.25)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });
});
