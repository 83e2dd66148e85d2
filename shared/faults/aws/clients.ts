/**
 * AWS SDK v3 clients per target region and (optionally) assumed role. The endpoint comes from the SDK's own
 * configuration, so `AWS_ENDPOINT_URL` (moto server, LocalStack) works as it does for every SDK client. Clients are
 * cached per region and role: building one is expensive, and a driver asks for them on every call.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';

export interface AwsClients {
  ec2: EC2Client;
  rds: RDSClient;
  cloudwatch: CloudWatchClient;
}

export interface AwsClientOptions {
  /**
   * Region used when a target names none (the control plane's own). Without it the SDK's own chain decides (a
   * profile's region); with no region anywhere, the first call fails and the driver names `target.region`.
   */
  defaultRegion?: string;
}

export type AwsClientFactory = (region: string | undefined, roleArn: string | undefined) => AwsClients;

export function awsClientFactory({ defaultRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION }: AwsClientOptions = {}): AwsClientFactory {
  const cache = new Map<string, AwsClients>();
  return (region, roleArn) => {
    const key = `${region ?? defaultRegion}|${roleArn ?? ''}`;
    let clients = cache.get(key);
    if (!clients) {
      const config = {
        ...((region ?? defaultRegion) ? { region: region ?? defaultRegion } : {}),
        // A role per experiment reaches targets in another account; the session name says who acted, for CloudTrail.
        ...(roleArn ? { credentials: fromTemporaryCredentials({ params: { RoleArn: roleArn, RoleSessionName: 'chaosduck' } }) } : {}),
      };
      clients = { ec2: new EC2Client(config), rds: new RDSClient(config), cloudwatch: new CloudWatchClient(config) };
      cache.set(key, clients);
    }
    return clients;
  };
}
