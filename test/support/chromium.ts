/**
 * A REAL headless Chromium for the tests that look at a page as a person would: Debian's `chromium` (installed by
 * `.ci/run`; installed here when missing and the tests run as root, else the tests that need it are skipped, saying
 * why), launched through playwright-core exactly as `chaosduck report --pdf` launches it (cli/pdf.ts: the same
 * executable search and flags), so no browser is ever downloaded.
 */
import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { findChromium, launchChromium } from '../../cli/pdf.js';

/** First use may install the package with apt-get: give the hook that finds it this long. */
export const CHROMIUM_SETUP_TIMEOUT_MS = 6 * 60_000;
const APT_TIMEOUT_MS = 5 * 60_000;

/** The browser's executable, or why the tests that need it cannot run here. */
export type ChromiumExecutable = { path: string } | { skip: string };

/** Finds Chromium, installing Debian's package first when it is missing and this process may (root). */
export function chromiumExecutable(): ChromiumExecutable {
  const found = findChromium();
  if (found) return { path: found };
  if (process.getuid?.() !== 0) {
    return { skip: 'chromium is not installed and this user is not root, so it cannot be installed here; run: sudo apt-get install -y --no-install-recommends chromium' };
  }
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: APT_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    try {
      apt(['install', '-y', '--no-install-recommends', 'chromium']);
    } catch {
      // A fresh image has no package lists yet.
      apt(['update']);
      apt(['install', '-y', '--no-install-recommends', 'chromium']);
    }
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join(' ');
    return { skip: `chromium is not installed and apt-get could not install it: ${stderr || String(error)}` };
  }
  const installed = findChromium();
  return installed ? { path: installed } : { skip: 'apt-get installed the chromium package, but no chromium executable was found' };
}

/** Headless Chromium with the report's flags; the executable `chromiumExecutable` found. */
export function launchTestChromium(executable: { path: string }): Promise<Browser> {
  return launchChromium({ ...process.env, CHAOSDUCK_CHROMIUM: executable.path });
}
