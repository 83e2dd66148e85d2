#!/usr/bin/env node
// The published entry point stays plain JavaScript so `npx chaosduck` works without a build step;
// tsx loads the TypeScript sources the same way the tests and the local runtime do.
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(
    `chaosduck needs Node 22 or newer (this is ${process.version}). Run it through npm — \`npx chaosduck\` or \`npm start\` — ` +
      'which use the Node 22 that `npm install` puts in node_modules, or install Node 22.',
  );
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
await import('./main.ts');
