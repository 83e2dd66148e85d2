/**
 * Real programs the tests need from Debian packages (`.ci/run` installs them). A test that finds one missing installs
 * it when it runs as root, and otherwise is skipped saying why: a developer's machine without the package still runs
 * every other test.
 */
import { execFileSync } from 'node:child_process';

/** One apt-get run (update, or install) may take this long on a slow mirror. */
const APT_TIMEOUT_MS = 5 * 60_000;
/** First use may install the package: give the hook (or the collection) that finds it this long. */
export const DEBIAN_SETUP_TIMEOUT_MS = 6 * 60_000;

/** The executable, or why the tests that need it cannot run here. */
export type DebianExecutable = { path: string } | { skip: string };

/**
 * The executable `find` finds, installing Debian's package `name` first when it is missing and this process may (root).
 *
 *     const binary = debianPackage('prometheus', () => onPath('prometheus'));
 *     describe.skipIf('skip' in binary)(…)
 */
export function debianPackage(name: string, find: () => string | undefined): DebianExecutable {
  const found = find();
  if (found) return { path: found };
  if (process.getuid?.() !== 0) {
    return { skip: `${name} is not installed and this user is not root, so it cannot be installed here; run: sudo apt-get install -y --no-install-recommends ${name}` };
  }
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: APT_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    try {
      apt(['install', '-y', '--no-install-recommends', name]);
    } catch {
      // A fresh image has no package lists yet.
      apt(['update']);
      apt(['install', '-y', '--no-install-recommends', name]);
    }
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join(' ');
    return { skip: `${name} is not installed and apt-get could not install it: ${stderr || String(error)}` };
  }
  const installed = find();
  return installed ? { path: installed } : { skip: `apt-get installed the ${name} package, but still no ${name} executable is found` };
}
