/**
 * `chaosduck report --pdf`: the report page printed by a real browser, headless Chromium driven by playwright-core,
 * both found on this machine (no browser is downloaded). Loaded only when a PDF is asked for.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Browser } from 'playwright-core';

/** Where Debian and Ubuntu put it, then the names it goes by on PATH. */
const CHROMIUM_PATHS = ['/usr/bin/chromium'];
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

/**
 * Headless as a batch job: no GPU, and nothing that reaches out (no QUIC, first-run, background, component-update or
 * sync traffic), so printing a page makes no request. Chromium's sandbox stays on, as the page holds text from the
 * journals, except for root, for whom Chromium refuses to start with it (and a container has none to give).
 */
export function chromiumArgs(uid: number | undefined = process.getuid?.()): string[] {
  return [...(uid === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
}

export const INSTALL_CHROMIUM = 'install Chromium (Debian/Ubuntu: apt-get install chromium), or name its executable with CHAOSDUCK_CHROMIUM';

/** A browser the report cannot be printed without: what is missing, and what to install. */
export class BrowserUnavailableError extends Error {
  override readonly name = 'BrowserUnavailableError';
}

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The Chromium executable: `CHAOSDUCK_CHROMIUM` when set, else /usr/bin/chromium, else the first on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHAOSDUCK_CHROMIUM) return executable(env.CHAOSDUCK_CHROMIUM) ? env.CHAOSDUCK_CHROMIUM : undefined;
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => CHROMIUM_NAMES.map((name) => join(dir, name)));
  return [...CHROMIUM_PATHS, ...onPath].find(executable);
}

/** Headless Chromium through playwright-core; a clear error when either is missing. */
export async function launchChromium(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  const executablePath = findChromium(env);
  if (!executablePath) {
    const where = env.CHAOSDUCK_CHROMIUM ? `CHAOSDUCK_CHROMIUM names ${env.CHAOSDUCK_CHROMIUM}, which is not an executable` : `no Chromium found (looked for ${[...CHROMIUM_PATHS, ...CHROMIUM_NAMES].join(', ')} on PATH)`;
    throw new BrowserUnavailableError(`${where}: ${INSTALL_CHROMIUM}`);
  }
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new BrowserUnavailableError('printing a PDF needs the playwright-core package, which is not installed: npm install playwright-core');
  }
  return playwright.chromium.launch({ executablePath, args: chromiumArgs() });
}

/** Prints a self-contained page to a PDF file (A4, its colours kept). */
export async function printPdf(html: string, path: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    // The page loads nothing, so it is ready as soon as it is set.
    await page.setContent(html, { waitUntil: 'load' });
    await page.pdf({ path, format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
  } finally {
    await browser.close();
  }
}
