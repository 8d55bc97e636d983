import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SecureBucket } from '../storage/secure-bucket';
import { uniqueRetainedName } from './stack-unique-suffix';

/** Where the lake keeps what, under its bucket. */
export const LAKE_PREFIXES = {
  /** The tables' Iceberg data and metadata, one folder per table. */
  tables: 'tables/',
  /** Staged lines from the transform, `<table>/day=<day>/`, until the load has moved them. */
  staging: 'staging/',
  /** The k-anonymous profiles the account database exports for the features' join. */
  profiles: 'profiles/',
  /** Query outputs (UNLOAD), one folder per ETL execution. */
  outputs: 'outputs/',
  /** Athena's own result files. */
  results: 'athena-results/',
} as const;

export interface EventLakeProps {
  readonly key: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Athena cancels a query that scans more than this: a runaway query costs at most
   * $5/TB x this. At least 10 MB (the API's minimum).
   */
  readonly bytesScannedCutoffPerQuery: number;
  /** Days staged lines and query outputs are kept (the next runs need neither). */
  readonly workFilesDays: number;
}

/**
 * The event lake: a bucket, a Glue database its tables live in (Iceberg, created by the ETL with
 * Athena DDL), and an Athena workgroup that runs every lake query with its results encrypted by the
 * data key and a per-query scan limit. Nothing here costs anything idle but the stored bytes.
 *
 * The tables are not declared in CloudFormation: a Glue table declared with IcebergInput loses its
 * `table_type` on the first stack update (https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1919),
 * so the ETL creates them with `CREATE TABLE IF NOT EXISTS`. Deleting the database deletes its
 * tables (https://docs.aws.amazon.com/glue/latest/webapi/API_DeleteDatabase.html).
 */
export class EventLake extends Construct {
  public readonly bucket: s3.IBucket;
  public readonly databaseName: string;
  public readonly workGroupName: string;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: EventLakeProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (props.bytesScannedCutoffPerQuery < 10_000_000)
      throw new Error('bytesScannedCutoffPerQuery must be at least 10,000,000 (Athena rejects less)');
    this.key = props.key;
    this.bucket = new SecureBucket(this, 'Store', {
      encryptionKey: props.key,
      removalPolicy,
      expirations: {
        [LAKE_PREFIXES.staging]: props.workFilesDays,
        [LAKE_PREFIXES.outputs]: props.workFilesDays,
        [LAKE_PREFIXES.results]: props.workFilesDays,
      },
    }).bucket;

    // Athena reads database names in lower case, letters, digits and underscores only.
    // https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Stack.of(this).account,
      databaseInput: {
        name: uniqueRetainedName(this, 64, '_'),
        description: 'Event lake: events, served items and feedback as Iceberg tables',
      },
    });
    database.applyRemovalPolicy(removalPolicy);
    // The Ref, not the name expression: another stack then imports one value.
    this.databaseName = database.ref;

    const workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: uniqueRetainedName(this, 128),
      description: 'Event lake queries of the ETL',
      recursiveDeleteOption: true,
      state: 'ENABLED',
      workGroupConfiguration: {
        // The workgroup's settings win over a query's: every result is encrypted with the data key.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.bucket.s3UrlForObject(LAKE_PREFIXES.results),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
    workGroup.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.workGroupName = workGroup.ref;
  }

  /** `s3://bucket/<prefix>` */
  url(prefix: string): string {
    return this.bucket.s3UrlForObject(prefix);
  }

  /**
   * What a principal needs to run the lake's queries through the workgroup (Athena runs them with
   * the caller's permissions): the Athena calls, the Glue catalog of the database, the bucket and
   * the key. https://docs.aws.amazon.com/athena/latest/ug/workgroups-iam-policy.html,
   * https://docs.aws.amazon.com/step-functions/latest/dg/athena-iam.html
   */
  grantQueries(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:StopQueryExecution',
        'athena:GetQueryResults',
      ],
      resourceArns: [
        stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroupName }),
      ],
    });
    // The queries name the account's Glue catalog (`AwsDataCatalog`).
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['athena:GetDataCatalog'],
      resourceArns: [
        stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' }),
      ],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:CreateTable',
        'glue:UpdateTable',
        'glue:GetPartition',
        'glue:GetPartitions',
        'glue:BatchGetPartition',
      ],
      resourceArns: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
        stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/*` }),
      ],
    });
    // Reads and writes anywhere in the lake (tables, staging, profiles, outputs, results); deletes
    // only table files, which Iceberg's maintenance (OPTIMIZE, VACUUM) removes.
    this.bucket.grantRead(grantee);
    this.bucket.grantPut(grantee);
    this.bucket.grantDelete(grantee, `${LAKE_PREFIXES.tables}*`);
    this.key.grantEncryptDecrypt(grantee);
  }
}
