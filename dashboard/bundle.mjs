// The dashboard's bundle, made one way for both its users: scripts/build.mjs writes it into dist/dashboard/ at
// `npm install`, and the local server (local/dashboard.ts) makes it in memory when it runs from the sources, so a page
// served from a checkout is always the one its sources say (never a dist/ bundle older than them).
//
// One JavaScript file and one stylesheet (esbuild, for browsers, minified; Preact and htm inside, nothing fetched at
// run time), the page that loads them, and its icon.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** What the page may weigh, gzipped (the HTML, the script and the stylesheet together); a bundle over it is refused. */
export const DASHBOARD_BUDGET_GZIP_BYTES = 150 * 1024;

/** The files, by their path under the dashboard's root (`index.html`, `assets/app.js`, `assets/app.css`). */
export async function bundleDashboard(root) {
  const { outputFiles, metafile } = await build({
    absWorkingDir: root,
    entryPoints: { app: 'dashboard/src/app.ts' },
    outdir: 'assets',
    write: false,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // What `<script type="module">` runs on: every browser of the last few years.
    target: ['chrome111', 'firefox111', 'safari16.4'],
    minify: true,
    metafile: true,
    legalComments: 'eof',
    logLevel: 'silent',
  });
  // The icon too: without one a browser asks for /favicon.ico, which is the API's (401 without the token).
  const files = new Map([
    ['index.html', readFileSync(join(root, 'dashboard/index.html'))],
    ['assets/favicon.svg', readFileSync(join(root, 'dashboard/favicon.svg'))],
  ]);
  for (const file of outputFiles) files.set(file.path.slice(root.length + 1), Buffer.from(file.contents));
  const gzipBytes = [...files.values()].reduce((total, body) => total + gzipSync(body, { level: 9 }).length, 0);
  if (gzipBytes > DASHBOARD_BUDGET_GZIP_BYTES) {
    throw new Error(`the dashboard weighs ${gzipBytes} bytes gzipped, over its budget of ${DASHBOARD_BUDGET_GZIP_BYTES}: see what grew with esbuild's metafile`);
  }
  const sources = [...Object.keys(metafile.inputs).filter((file) => !file.startsWith('node_modules/') && !file.includes(':')), 'dashboard/index.html', 'dashboard/favicon.svg'].sort();
  return { files, gzipBytes, sources };
}
