/**
 * A REAL headless Chromium for the tests that look at a page as a person would: Debian's `chromium` (installed by
 * `.ci/run`; installed here when missing and the tests run as root, else the tests that need it are skipped, saying
 * why), launched through playwright-core exactly as `chaosduck report --pdf` launches it (cli/pdf.ts: the same
 * executable search and flags), so no browser is ever downloaded.
 */
import type { Browser } from 'playwright-core';
import { findChromium, launchChromium } from '../../cli/pdf.js';
import { DEBIAN_SETUP_TIMEOUT_MS, debianPackage, type DebianExecutable } from './debian.js';

/** First use may install the package with apt-get: give the hook that finds it this long. */
export const CHROMIUM_SETUP_TIMEOUT_MS = DEBIAN_SETUP_TIMEOUT_MS;

/** Finds Chromium where `chaosduck report --pdf` looks for it, installing Debian's package first when it is missing and this process may (root). */
export function chromiumExecutable(): DebianExecutable {
  return debianPackage('chromium', () => findChromium());
}

/** Headless Chromium with the report's flags; the executable `chromiumExecutable` found. */
export function launchTestChromium(executable: { path: string }): Promise<Browser> {
  return launchChromium({ ...process.env, CHAOSDUCK_CHROMIUM: executable.path });
}
