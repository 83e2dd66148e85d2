/**
 * The dashboard's bundle as `npm install` builds it and `serve` serves it (dashboard/bundle.mjs): one page, one script,
 * one stylesheet, an icon, within the size budget (150 KB gzipped), every script a file of its own (the page's policy allows no
 * inline script), and nothing in it loaded from anywhere else.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_BUDGET_GZIP_BYTES, bundleDashboard } from '../../../dashboard/bundle.mjs';

describe('the dashboard bundle', () => {
  it('is one page, one script, one stylesheet and an icon, within 150 KB gzipped', async () => {
    const { files, gzipBytes, sources } = await bundleDashboard(process.cwd());

    expect([...files.keys()].sort()).toEqual(['assets/app.css', 'assets/app.js', 'assets/favicon.svg', 'index.html']);
    const measured = [...files.values()].reduce((total, body) => total + gzipSync(body, { level: 9 }).length, 0);
    expect(gzipBytes).toBe(measured);
    expect(DASHBOARD_BUDGET_GZIP_BYTES).toBe(150 * 1024);
    expect(gzipBytes).toBeLessThanOrEqual(DASHBOARD_BUDGET_GZIP_BYTES);
    console.log(`dashboard bundle: ${(gzipBytes / 1024).toFixed(1)} KB gzipped of ${DASHBOARD_BUDGET_GZIP_BYTES / 1024} KB`);
    // What cli/bin.js must find unchanged to run the build: the dashboard's own modules among them.
    expect(sources).toEqual(expect.arrayContaining(['dashboard/index.html', 'dashboard/src/app.ts', 'dashboard/src/style.css']));
    expect(sources.every((source) => !source.startsWith('node_modules/'))).toBe(true);
  });

  it('loads its script and stylesheet as files, from beside itself, and nothing from elsewhere', async () => {
    const { files } = await bundleDashboard(process.cwd());
    const page = files.get('index.html')?.toString('utf8') ?? '';

    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/\sstyle=|<style/);
    expect([...page.matchAll(/\s(?:src|href)="([^"]*)"/g)].map(([, url]) => url).sort()).toEqual(['assets/app.css', 'assets/app.js', 'assets/favicon.svg']);
    // No address the bundle could fetch at run time: no CDN, no font, no remote module.
    const script = files.get('assets/app.js')?.toString('utf8') ?? '';
    expect(script).not.toMatch(/\bimport\s*\(|\bimport\s*["'{*]|importScripts|cdn\.|unpkg|jsdelivr|fonts\.googleapis/);
  });
});
