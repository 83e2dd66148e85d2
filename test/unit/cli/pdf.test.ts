/** How `chaosduck report --pdf` finds and starts Chromium: its sandbox off for root only, and the executable it names. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chromiumArgs, findChromium } from '../../../cli/pdf.js';

describe('Chromium for --pdf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chaosduck-pdf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the sandbox on unless root, for whom Chromium will not start with it', () => {
    expect(chromiumArgs(0)).toContain('--no-sandbox');
    expect(chromiumArgs(1000)).not.toContain('--no-sandbox');
    for (const uid of [0, 1000]) expect(chromiumArgs(uid)).toEqual(expect.arrayContaining(['--disable-background-networking', '--disable-component-update', '--disable-quic']));
  });

  it('takes CHAOSDUCK_CHROMIUM when it names an executable, and nothing else when it does not', () => {
    const browser = join(dir, 'my-chrome');
    writeFileSync(browser, '#!/bin/sh\n');
    expect(findChromium({ CHAOSDUCK_CHROMIUM: browser, PATH: '' })).toBeUndefined();
    chmodSync(browser, 0o755);
    expect(findChromium({ CHAOSDUCK_CHROMIUM: browser, PATH: '' })).toBe(browser);
  });
});
