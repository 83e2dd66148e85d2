/**
 * The size of every Lambda bundle exactly as `cdk deploy` would upload it: synthesizes the app with its real
 * NodejsFunction bundling into a temporary folder and measures each function's minified `index.mjs`.
 *
 * Run: npm run bench:bundles   (about 20 s)
 * Target: every bundle at most 250 KB minified, except those carrying the Kubernetes client (at most 2 MB) and the
 * analysis function, which carries the Anthropic SDK (at most 600 KB).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIMIT = 250 * 1000;
const KUBERNETES_LIMIT = 2 * 1000 * 1000;
const ANALYSIS_LIMIT = 600 * 1000;

const out = mkdtempSync(join(tmpdir(), 'chaosduck-synth-'));
try {
  execFileSync('npx', ['cdk', 'synth', '--quiet', '--output', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const template = JSON.parse(readFileSync(join(out, 'ChaosDuck.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
  };
  const rows = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function' && resource.Metadata?.['aws:asset:path'])
    .map(([logicalId, resource]) => {
      const dir = join(out, resource.Metadata?.['aws:asset:path'] ?? '');
      const bytes = statSync(join(dir, 'index.mjs')).size;
      const kubernetes = readFileSync(join(dir, 'index.mjs'), 'utf8').includes('/api/v1/namespaces/{namespace}/pods') /* only the Kubernetes client's generated API carries it */;
      const name = logicalId.replace(/^Functions/, '').replace(/Function[0-9A-F]{8}$/, '');
      return { name, bytes, limit: kubernetes ? KUBERNETES_LIMIT : name === 'Analysis' ? ANALYSIS_LIMIT : LIMIT };
    })
    .sort((a, b) => b.bytes - a.bytes);
  console.log(`Lambda bundles (minified index.mjs, source maps excluded), ${rows.length} functions:`);
  for (const { name, bytes, limit } of rows) {
    console.log(`  ${name.padEnd(16)} ${(bytes / 1000).toFixed(1).padStart(7)} KB  ${bytes <= limit ? 'within' : 'OVER'} ${limit / 1000} KB`);
  }
  const over = rows.filter((row) => row.bytes > row.limit);
  console.log(over.length === 0 ? 'all within their limits' : `${over.length} over their limit`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
