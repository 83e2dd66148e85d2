#!/usr/bin/env node
// Builds the commands a user runs (`chaosduck`, `npm start`, `npm run serve`) and their helper processes into plain
// JavaScript under dist/, once, at `npm install` (the `prepare` script), so nothing is compiled when they start.
// Each source file becomes one module (no bundling): imports, `import.meta.url` and the helper modules beside each
// file keep their places. cli/bin.js runs dist/ while it is newer than every source, and the sources through tsx
// otherwise (a checkout edited since its build). The Lambda functions are bundled by CDK from the sources, not here.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..').replace(/\/$/, '');
const SOURCE_DIRS = ['cli', 'shared', 'local', 'functions', 'statemachines'];
const dist = join(root, 'dist');

/** Files under `dir` (relative to the root) whose names end with `suffix`; readdir, not glob, so Node 20's npm can run it. */
const filesUnder = (dir, suffix) =>
  readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(root.length + 1))
    .sort();

rmSync(dist, { recursive: true, force: true });
const entryPoints = SOURCE_DIRS.flatMap((dir) => filesUnder(dir, '.ts')).filter((file) => !file.endsWith('.d.ts'));
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: dist,
  outbase: '.',
  format: 'esm',
  platform: 'node',
  target: 'node22',
  bundle: false,
  logLevel: 'warning',
});
// What the modules read beside themselves: the state machine definitions, and the version `--version` prints.
for (const file of filesUnder('statemachines', '.json')) {
  mkdirSync(dirname(join(dist, file)), { recursive: true });
  copyFileSync(join(root, file), join(dist, file));
}
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ private: true, type: 'module', version }, null, 2)}\n`);
// Written last (a build that stopped halfway has none, and is not used): when, and from what, for cli/bin.js to tell
// whether a source changed since.
const sources = [...entryPoints, 'package.json'];
writeFileSync(join(dist, 'built.json'), `${JSON.stringify({ builtAt: Date.now(), sources }, null, 2)}\n`);
console.log(`chaosduck: built ${entryPoints.length} modules into dist/`);
