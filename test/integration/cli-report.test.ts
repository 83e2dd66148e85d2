/**
 * `chaosduck report`, the real command: the page it writes from journals real runs wrote (ChaosDuck's, one with
 * prometheus probes against a real Prometheus, and the real Chaos Toolkit's), each file that is not a journal named with
 * what is wrong, an output it cannot write named with why, and `--pdf` without a browser saying what to install. The
 * PDF itself is printed by a real Chromium in test/e2e/report-browser.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const journal = (name: string) => fileURLToPath(new URL(`../support/fixtures/journals/${name}.json`, import.meta.url));

describe('chaosduck report', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'chaosduck-report-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('writes one page with the charts of every journal given, ChaosDuck\'s and Chaos Toolkit\'s, and their comparison', async () => {
    const result = await runCli(['report', journal('sandbox-pod-delete'), journal('sandbox-latency-deviated'), journal('chaostoolkit'), '-o', 'out.html'], { cwd });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`report     ${join(cwd, 'out.html')} (Chaos experiments report: 3 experiments)`);
    expect(result.stdout).toContain('analysis by the offline rules');
    const html = readFileSync(join(cwd, 'out.html'), 'utf8');
    const ids = [...html.matchAll(/<svg id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(expect.arrayContaining(['compare-score', 'compare-recovery', 'trend', 'x1-timeline', 'x2-probe-1', 'x3-timeline']));
    expect(html).toContain('Service answers while a worker restarts');
  });

  it("charts a real prometheus run's journal by the values it read, against the tolerances it recorded", async () => {
    const result = await runCli(['report', journal('sandbox-prometheus'), '-o', 'prometheus.html'], { cwd });

    expect(result.code, result.stderr).toBe(0);
    const html = readFileSync(join(cwd, 'prometheus.html'), 'utf8');
    const svg = (id: string) => html.match(new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`))?.[0] ?? '';
    expect(svg('x1-probe-1')).toContain('>health-latency: value of each check</title>');
    expect(svg('x1-probe-1')).toContain('data-tolerance="max"');
    expect(svg('x1-probe-1')).toContain('>&lt; 0.25</text>');
    expect(svg('x1-probe-1')).toContain('<title>health-latency before the fault: 0.02851</title>');
    expect(svg('x1-probe-2')).toContain('data-tolerance="range"');
    expect(svg('x1-probe-2')).toContain('>within [0, 0.5]</text>');
    expect(svg('x1-probe-3').match(/data-point="no-value"/g)).toHaveLength(6);
  });

  it('says which output it cannot write and why, without a stack trace, and exits 2', async () => {
    const result = await runCli(['report', journal('sandbox-pod-delete'), '-o', '/nonexistent-dir/x.html'], { cwd });

    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('cannot write /nonexistent-dir/x.html: ENOENT: no such file or directory');
    expect(result.stdout).not.toContain('report ');
  });

  it('names each file that is not a journal, with what is wrong, and writes nothing', async () => {
    writeFileSync(join(cwd, 'notes.txt'), 'not json');
    writeFileSync(join(cwd, 'experiment.json'), JSON.stringify({ name: 'x', chaos_type: 'pod_delete', target: {} }));
    writeFileSync(join(cwd, 'half.json'), JSON.stringify({ experiment: {}, status: 'completed', steady_states: {}, run: {} }));

    const result = await runCli(['report', journal('sandbox-pod-delete'), 'missing.json', 'notes.txt', 'experiment.json', 'half.json'], { cwd });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing.json is not a journal:\n  cannot read it: ENOENT: no such file or directory, open 'missing.json'");
    expect(result.stderr).toMatch(/notes\.txt is not a journal:\n {2}not JSON: /);
    expect(result.stderr).toContain('experiment.json is not a journal:\n  this is an experiment, not a journal: run it (chaosduck run) and give the journal it writes');
    expect(result.stderr).toContain('half.json is not a journal:\n  run: Invalid input: expected array, received object');
    expect(result.stderr).not.toContain('sandbox-pod-delete.json');
    expect(existsSync(join(cwd, 'report.html'))).toBe(false);
  });

  it('without a browser, writes the page and says what to install for the PDF', async () => {
    const result = await runCli(['report', journal('sandbox-pod-delete'), '--pdf', 'report.pdf'], { cwd, env: { CHAOSDUCK_CHROMIUM: join(cwd, 'no-chromium') } });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no PDF: CHAOSDUCK_CHROMIUM names ${join(cwd, 'no-chromium')}, which is not an executable: install Chromium (Debian/Ubuntu: apt-get install chromium)`);
    expect(readFileSync(join(cwd, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/);
    expect(existsSync(join(cwd, 'report.pdf'))).toBe(false);
  });
});
