/**
 * The SVG charts: one element per data point (counted by `data-point`), the tolerance drawn where the values are, an
 * accessible name, axes with their labels, everything users wrote escaped, and well-formed XML (read back by a real
 * XML parser).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { barChart, lineChart, niceTicks, timelineChart } from '../../../shared/analysis/charts.js';

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

  it('draws a range tolerance as a band, and a check with no value on the axis', () => {
    const svg = lineChart({
      id: 'v',
      title: 'error ratio',
      description: 'd',
      x: { kind: 'elapsed', min: 0, max: 1000 },
      y: { label: 'value' },
      points: [
        { x: 0, y: 0.5, failed: false, label: 'a' },
        { x: 500, y: null, failed: true, label: 'no value' },
      ],
      tolerance: { kind: 'range', from: 0.2, to: 0.8, label: 'within [0.2, 0.8]' },
    });

    expect(svg).toContain('data-tolerance="range"');
    expect(attributeOf(svg, 'data-point="failed"', 'cy')).toBe(210); // the x axis
    expect(points(svg)).toBe(2);
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

describe('ticks', () => {
  it('falls on round numbers covering the range', () => {
    expect(niceTicks(0, 6.1)).toEqual([0, 2, 4, 6]);
    expect(niceTicks(0, 100, 4)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(0, 0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0, 0.25)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });
});
