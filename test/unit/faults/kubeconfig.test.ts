/**
 * Loading the kubeconfig: what is missing is said by name, before the Kubernetes client fails deep inside a fault.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderUnavailableError } from '../../../shared/errors.js';
import { loadKubeConfig } from '../../../shared/faults/kubernetes/cluster.js';

const saved = process.env.KUBECONFIG;
afterEach(() => {
  if (saved === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = saved;
});

describe('loadKubeConfig', () => {
  it('names a KUBECONFIG file that does not exist, and says what to do', () => {
    process.env.KUBECONFIG = '/nowhere/kubeconfig';

    expect(() => loadKubeConfig()).toThrow(ProviderUnavailableError);
    expect(() => loadKubeConfig()).toThrow('KUBECONFIG names /nowhere/kubeconfig, which does not exist: point it at a kubeconfig file, or unset it to use ~/.kube/config');
  });
});
