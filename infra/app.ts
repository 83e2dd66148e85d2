/**
 * The CDK app: `npx cdk deploy` puts the control plane in the account and region of the usual CDK environment
 * (profile, CDK_DEFAULT_ACCOUNT/REGION); without one, `npx cdk synth` makes an environment-agnostic template offline.
 */
import { App, Validations } from 'aws-cdk-lib';
import { ChaosDuckStack } from './chaosduck-stack.js';
import { stackPropsFromContext } from './context.js';
import { nagPacks } from './nag.js';

const app = new App();
new ChaosDuckStack(app, 'ChaosDuck', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  ...stackPropsFromContext(app),
});
Validations.of(app).addPlugins(...nagPacks(app));
app.synth();
