#!/usr/bin/env node
// The published entry point stays plain JavaScript so `npx chaosduck` works without a build step. It runs the
// JavaScript that `npm install` built into dist/ (scripts/build.mjs), and the TypeScript sources through tsx when
// there is no build or a source changed since it was made (a checkout being worked on).
import module from 'node:module';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(
    `chaosduck needs Node 22 or newer (this is ${process.version}). Run it through npm — \`npx chaosduck\` or \`npm start\` — ` +
      'which use the Node 22 that `npm install` puts in node_modules, or install Node 22.',
  );
  process.exit(1);
}

const root = fileURLToPath(new URL('../', import.meta.url));
function builtAndCurrent() {
  try {
    const { builtAt, sources } = JSON.parse(readFileSync(`${root}dist/built.json`, 'utf8'));
    return sources.every((source) => statSync(`${root}${source}`).mtimeMs <= builtAt);
  } catch {
    return false; // no build, or a source it was made from is gone
  }
}

if (builtAndCurrent()) {
  // V8's code cache for the bundle, kept on disk by Node (as tsc does): later starts skip compiling it again.
  module.enableCompileCache?.();
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
