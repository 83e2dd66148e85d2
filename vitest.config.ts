import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real processes (dynalite for the DynamoDB contract, sandbox replicas, a Kubernetes
    // control plane); give them room on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests never call the real Anthropic API, whatever the machine has set: Claude is tested against a fake.
    env: { ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: '' },
  },
});
