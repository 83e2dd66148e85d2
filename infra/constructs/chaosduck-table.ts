/**
 * The control plane's single DynamoDB table. Keys and indexes come from `tableDefinition` — the very layout the
 * local runtime creates in dynalite — so the two cannot drift. Grants are item-level actions on the table and the
 * named indexes only; the store never scans, never touches streams and never describes the table.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { type Attribute, AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { KeySchemaElement, Projection } from '@aws-sdk/client-dynamodb';
import { TTL_ATTRIBUTE, tableDefinition } from '../../shared/store/table.js';

/** What `ExperimentStore` and `ConnectionStore` send: single-item reads and writes, batches, and key queries. */
const ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

export interface ChaosDuckTableProps {
  /**
   * Encrypt with this customer managed key instead of the AWS managed `aws/dynamodb` key; grants then include it.
   * @default - the AWS managed key
   */
  readonly encryptionKey?: IKey;
  /**
   * What happens to the table when the stack is deleted. The table holds every experiment's journal.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class ChaosDuckTable extends Construct {
  readonly table: Table;
  private readonly indexNames: string[];
  private readonly encryptionKey?: IKey;

  constructor(scope: Construct, id: string, props: ChaosDuckTableProps = {}) {
    super(scope, id);
    const layout = tableDefinition('unused');
    const types = new Map((layout.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
    const attribute = (name: string | undefined): Attribute => {
      const type = types.get(name);
      if (!name || !type) throw new Error(`tableDefinition: key attribute ${name} has no attribute definition`);
      return { name, type: type === 'N' ? AttributeType.NUMBER : type === 'B' ? AttributeType.BINARY : AttributeType.STRING };
    };
    const keys = (schema: KeySchemaElement[] | undefined) => {
      const sortKey = schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName;
      return {
        partitionKey: attribute(schema?.find((k) => k.KeyType === 'HASH')?.AttributeName),
        ...(sortKey ? { sortKey: attribute(sortKey) } : {}),
      };
    };

    this.encryptionKey = props.encryptionKey;
    this.table = new Table(this, 'Table', {
      ...keys(layout.KeySchema),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: props.encryptionKey ? TableEncryption.CUSTOMER_MANAGED : TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const index of layout.GlobalSecondaryIndexes ?? []) {
      if (!index.IndexName) throw new Error('tableDefinition: a global secondary index has no name');
      this.table.addGlobalSecondaryIndex({ indexName: index.IndexName, ...keys(index.KeySchema), ...projection(index.Projection) });
    }
    this.indexNames = (layout.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName ?? '');
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** Item reads and writes on the table itself (not its indexes). */
  grantItemReadWrite(grantee: IGrantable): Grant {
    this.encryptionKey?.grantEncryptDecrypt(grantee);
    return Grant.addToPrincipal({ grantee, actions: ITEM_ACTIONS, resourceArns: [this.table.tableArn] });
  }

  /** Queries on the global secondary indexes (experiment lists by status or creation time), each named. */
  grantIndexQuery(grantee: IGrantable): Grant {
    this.encryptionKey?.grantDecrypt(grantee);
    return Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: this.indexNames.map((name) => `${this.table.tableArn}/index/${name}`),
    });
  }
}

function projection(spec: Projection | undefined): { projectionType: ProjectionType; nonKeyAttributes?: string[] } {
  switch (spec?.ProjectionType) {
    case 'KEYS_ONLY':
      return { projectionType: ProjectionType.KEYS_ONLY };
    case 'INCLUDE':
      return { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: spec.NonKeyAttributes ?? [] };
    default:
      return { projectionType: ProjectionType.ALL };
  }
}
