/**
 * The cdk-nag packs the control plane is held to. `app.ts` registers them as policy-validation plugins, so
 * `cdk synth` and `cdk deploy` fail on an unacknowledged finding; the infra tests run the same packs in-process.
 */
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export function nagPacks(scope: IConstruct): NagPack[] {
  return [new AwsSolutionsChecks(scope), new ServerlessChecks(scope)];
}
