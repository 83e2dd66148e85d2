import type { IConstruct } from 'constructs';

/**
 * The CloudFormation resource an L2 construct stands for, so an acknowledgement lands on that one resource and not on
 * whatever else the construct holds.
 */
export function cfnOf(construct: IConstruct): IConstruct {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error(`${construct.node.path} has no CloudFormation resource of its own`);
  return resource;
}
