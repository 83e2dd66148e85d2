/**
 * `chaosduck serve` (as `npm run serve` runs it) prints where the dashboard is, with the hint that the token it prints
 * logs in, and serves the page there without the token: the built bundle (dist/dashboard/) when the command runs from
 * its build, one made from the sources when it runs from them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../local/dashboard.js';
import { startCli } from '../support/cli.js';

describe('chaosduck serve and the dashboard', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'chaosduck-dashboard-serve-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('prints the dashboard address and the token to log in with, and serves the page there', async () => {
    const serve = startCli(['serve', '--port', '0'], { cwd, env: { CHAOSDUCK_TOKEN: 'serve-dashboard-token' } });
    try {
      const banner = await serve.waitForOutput(/token\s+serve-dashboard-token/, 90_000);

      const address = /^dashboard\s+(http:\/\/\S+\/)\s+\(open it in a browser; log in with the token below\)$/m.exec(banner)?.[1];
      expect(address, banner).toBeDefined();
      const page = await fetch(address as string);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      expect(await page.text()).toContain('<script type="module" src="assets/app.js"></script>');
      const script = await fetch(new URL('assets/app.js', address));
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect((await script.text()).length).toBeGreaterThan(1000);
    } finally {
      serve.child.kill('SIGINT');
      await serve.done;
    }
  }, 120_000);
});
