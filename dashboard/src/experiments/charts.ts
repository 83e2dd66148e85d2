/**
 * Each probe's checks over time, drawn by the report's own chart code (shared/analysis/charts.ts: inline SVG with a
 * title, labelled axes, the tolerance and the time the fault was in place): the same picture while the experiment runs
 * as in its report once it has ended.
 */
import { lineChart } from '../../../shared/analysis/charts.js';
import type { JournalTimeline } from '../../../shared/analysis/timeline.js';

export function probeCharts(timeline: JournalTimeline, idPrefix: string): { name: string; svg: string }[] {
  const span = Math.max(timeline.end - timeline.start, 1);
  const window = timeline.faultWindow
    ? { start: timeline.faultWindow.start - timeline.start, end: timeline.faultWindow.end - timeline.start, label: 'fault in place' }
    : undefined;
  return timeline.probes.map((probe, index) => {
    const what = probe.measure === 'value' ? 'value' : 'latency';
    const failed = probe.checks.filter((check) => check.failed).length;
    return {
      name: probe.name,
      svg: lineChart({
        id: `${idPrefix}-probe-${index + 1}`,
        title: `${probe.name}: ${what} of each check`,
        description: `${probe.checks.length} checks of ${probe.name} so far, ${failed} failed; the ${what} of each over time${probe.tolerance ? `, against its tolerance (${probe.tolerance.label})` : ''}.`,
        x: { kind: 'elapsed', min: 0, max: span },
        y: probe.measure === 'value' ? { label: 'value' } : { label: 'latency (ms)', unit: 'ms', min: 0 },
        points: probe.checks.map((check) => ({ x: check.at - timeline.start, y: check.y, failed: check.failed, label: check.label })),
        ...(probe.tolerance ? { tolerance: probe.tolerance } : {}),
        ...(window ? { window } : {}),
      }),
    };
  });
}
