/** The `aws` fault driver with every AWS fault: what Lambda and the CLI register. */
import type { FaultDriver } from '../driver.js';
import { awsClientFactory, type AwsClientFactory } from './clients.js';
import { createAwsDriver } from './driver.js';
import { ec2Stop } from './ec2-stop.js';
import { rdsFailover } from './rds-failover.js';
import { routeBlackhole } from './route-blackhole.js';

export function awsDriver(clients: AwsClientFactory = awsClientFactory()): FaultDriver {
  return createAwsDriver({ ec2_stop: ec2Stop, rds_failover: rdsFailover, route_blackhole: routeBlackhole }, clients);
}
