#!/usr/bin/env node
// Builds the commands a user runs (`chaosduck`, `npm start`, `npm run serve`) and their helper processes into plain
// JavaScript under dist/cli/, once, at `npm install` (the `prepare` script), so nothing is compiled when they start.
//
// Bundled, dependencies included: loading one bundle is about a third faster than loading the same code as hundreds
// of modules from node_modules (BENCHMARKS.md). Code split at every dynamic import, so what a command does not use
// (the AWS SDK, the Kubernetes client, the sandbox, the server) stays in chunks it never loads. Everything lands in
// one folder, so what the code finds beside itself through `import.meta.url` is there: the helper processes it forks
// (`siblingModule`), the state machines' ASL files, and `../package.json` (the version).
//
// The web dashboard's static page goes into dist/dashboard/ (dashboard/bundle.mjs; it fails over its size budget),
// where the built command's server finds it.
//
// cli/bin.js runs dist/ while it is newer than every source (the dashboard's included), and the sources through tsx
// otherwise (a checkout edited since its build). The Lambda functions are bundled by CDK from the sources, not here.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleDashboard } from '../dashboard/bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..').replace(/\/$/, '');
const dist = join(root, 'dist');
const out = join(dist, 'cli');
/**
 * What aws-local-stepfunctions imports for code paths the embedded runtime never takes, left out of the bundle: the
 * ASL validator (the runtime loads its own ASL files with `noValidate`; test/statemachines/asl.test.ts validates them
 * with the real one) and the Lambda client it invokes Tasks with (every Task runs its local handler). Loading them
 * cost a tenth of a second per command. Each stand-in fails by name if it is ever reached.
 */
const UNUSED_BY_THE_RUNTIME = {
  'asl-validator': 'export default () => { throw new Error("chaosduck: the ASL validator is not in the built command; the state machines are validated by the tests"); };',
  '@aws-sdk/client-lambda':
    'export class LambdaClient { constructor() { throw new Error("chaosduck: the embedded runtime runs every Task with its local handler, never through Lambda"); } } export class InvokeCommand {}',
  '@aws-sdk/credential-providers': 'export const fromCognitoIdentityPool = () => { throw new Error("chaosduck: no Lambda is invoked by the embedded runtime"); };',
};
const leaveOutUnused = {
  name: 'leave-out-unused',
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(UNUSED_BY_THE_RUNTIME).map((name) => name.replace(/[/.-]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, ({ path, importer }) =>
      importer.includes('/node_modules/aws-local-stepfunctions/') ? { path, namespace: 'unused-by-the-runtime' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'unused-by-the-runtime' }, ({ path }) => ({ contents: UNUSED_BY_THE_RUNTIME[path], loader: 'js' }));
  },
};

/** The command, and the helper processes it forks by name (`siblingModule`). */
const ENTRIES = ['cli/main.ts', 'local/sandbox/demo-service.ts', 'local/sandbox/stress-worker.ts'];

rmSync(dist, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: root,
  entryPoints: ENTRIES.map((file) => ({ in: file, out: basename(file, '.ts') })),
  outdir: out,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  bundle: true,
  splitting: true,
  metafile: true,
  plugins: [leaveOutUnused],
  // Loaded from node_modules, where it is (only when a cluster is used): bundled, its old dependencies' use of Node's
  // deprecated punycode module would print a DeprecationWarning that Node keeps quiet for code inside node_modules.
  // playwright-core (only `chaosduck report --pdf` loads it) stays in node_modules too: it finds its own files beside
  // itself, which a bundle would not have.
  // esbuild itself: the server bundles the dashboard with it only when run from the sources (local/dashboard.ts), never
  // from dist/, so the chunk that imports it is never loaded here.
  external: ['@kubernetes/client-node', 'playwright-core', 'esbuild'],
  // CommonJS dependencies inside an ES module bundle still call `require` (for Node's own modules).
  banner: { js: "import { createRequire as __chaosduckRequire } from 'node:module'; const require = __chaosduckRequire(import.meta.url);" },
  logLevel: 'warning',
});
for (const file of readdirSync(join(root, 'statemachines')).filter((name) => name.endsWith('.asl.json'))) {
  copyFileSync(join(root, 'statemachines', file), join(out, file));
}
const dashboard = await bundleDashboard(root);
for (const [path, body] of dashboard.files) {
  mkdirSync(dirname(join(dist, 'dashboard', path)), { recursive: true });
  writeFileSync(join(dist, 'dashboard', path), body);
}
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ private: true, type: 'module', version }, null, 2)}\n`);
// Written last (a build that stopped halfway has none, and is not used): when, and from what, for cli/bin.js to tell
// whether a source changed since.
const sources = Object.keys(metafile.inputs).filter((file) => !file.startsWith('node_modules/') && !file.includes(':')).sort();
writeFileSync(join(dist, 'built.json'), `${JSON.stringify({ builtAt: Date.now(), sources: [...new Set([...sources, ...dashboard.sources, 'package.json'])] }, null, 2)}\n`);
console.log(`chaosduck: built ${ENTRIES.length} entry points from ${sources.length} modules into dist/cli/`);
console.log(`chaosduck: built the dashboard into dist/dashboard/ (${(dashboard.gzipBytes / 1024).toFixed(1)} KB gzipped)`);
