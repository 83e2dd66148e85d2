#!/usr/bin/env node
// The published entry point stays plain JavaScript so `npx chaosduck` works without a build step;
// tsx loads the TypeScript sources the same way the tests and the local runtime do.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
