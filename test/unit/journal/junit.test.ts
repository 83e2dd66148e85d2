/**
 * Journals as JUnit XML: each thing that can fail is a test case; a deviation or a failed rollback is a failure, a
 * run that tested nothing is an error; the document parses as XML (checked with Python's own parser), whatever the
 * journal holds.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../shared/journal/activity.js';
import { junitXml } from '../../../shared/journal/junit.js';

const check = (name: string, met: boolean) => ({ activity: { type: 'probe', name }, start: '2026-03-01T10:00:10.000Z', duration: 0.01, tolerance_met: met, output: { status: met ? 200 : 503 } });

function journal(fields: Record<string, unknown> = {}): JsonObject {
  return {
    experiment: { name: 'web-kill', chaos_type: 'pod_delete' },
    status: 'completed',
    deviated: false,
    start: '2026-03-01T10:00:00.000Z',
    duration: 12.5,
    steady_states: { before: { steady_state_met: true, probes: [check('home', true)] }, during: [{ probes: [check('home', true)] }], after: { probes: [check('home', true)] } },
    run: [{ activity: { type: 'action', name: 'pod_delete' }, status: 'succeeded' }],
    rollbacks: [{ activity: { name: 'rollback' }, status: 'succeeded', duration: 0.2 }],
    chaosduck: { id: 'exp-1', hypothesis: { statement: 'the shop keeps answering' }, resilience_score: { score: 100 } },
    ...fields,
  } as unknown as JsonObject;
}

/** Parses with a real XML parser (Python's), and returns [tests, failures, errors] of the document. */
function parsed(xml: string): number[] {
  const out = execFileSync('python3', ['-c', 'import sys, xml.etree.ElementTree as ET; r = ET.fromstring(sys.stdin.read()); print(r.get("tests"), r.get("failures"), r.get("errors"))'], { input: xml });
  return String(out).trim().split(' ').map(Number);
}

describe('JUnit XML from journals', () => {
  it('passes a run that held, with its id, status and score as properties', () => {
    const xml = junitXml([journal()]);

    expect(parsed(xml)).toEqual([4, 0, 0]);
    expect(xml).toContain('<testsuite name="web-kill" tests="4" failures="0" errors="0" time="12.500" timestamp="2026-03-01T10:00:00.000Z">');
    expect(xml).toContain('<property name="resilience_score" value="100"/>');
    expect(xml).toContain('name="hypothesis: the shop keeps answering"');
  });

  it('fails the probe, the hypothesis and the rollback that failed, naming what', () => {
    const xml = junitXml([
      journal({
        deviated: true,
        status: 'failed',
        steady_states: { before: { steady_state_met: true, probes: [] }, during: [{ probes: [check('home', false)] }], after: { probes: [check('home', true)] } },
        rollbacks: [{ activity: { name: 'rollback remove_proxy_fault' }, status: 'failed', exception: ['connection refused'] }],
      }),
    ]);

    expect(parsed(xml)).toEqual([4, 3, 0]);
    expect(xml).toContain('<failure message="1 of 2 checks out of tolerance">');
    expect(xml).toContain('<failure message="the experiment deviated from its steady state">');
    expect(xml).toContain('rollback remove_proxy_fault: connection refused');
  });

  it('makes a run that tested nothing an error, never a pass', () => {
    const xml = junitXml([journal({ status: 'aborted', run: [], rollbacks: [], chaosduck: { id: 'exp-2', reason: 'TargetLeasedError', error: 'held by exp-1' } })]);

    expect(parsed(xml)).toEqual([4, 0, 1]);
    expect(xml).toContain('not tested: the experiment ended aborted (TargetLeasedError) before any fault was applied');
  });

  it('stays well-formed whatever the journal holds: markup, quotes, control characters, emoji', () => {
    const xml = junitXml([journal({ experiment: { name: 'a <b> & "c" \u0007 🦆', chaos_type: 'pod_delete' } }), journal()]);

    expect(parsed(xml)).toEqual([8, 0, 0]);
    expect(xml).toContain('a &lt;b&gt; &amp; &quot;c&quot;  🦆');
  });
});
