/**
 * Custom resource (behind the CDK provider framework) that creates the IAM-authenticated database
 * user at deploy time, before any function connects.
 *
 * It runs outside the VPC and sends the SQL of ./bootstrap.ts through the RDS Data API, which reads
 * the master user's secret server-side: nothing in the VPC needs a route to Secrets Manager
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html).
 *
 * Properties: `ClusterArn`, `SecretArn` (the master secret), `Database`, `User`.
 * Create and Update run every statement (they are idempotent); Delete leaves the database as it is,
 * since the user goes with the cluster, and a retained cluster keeps working.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { bootstrapStatements, runStatements, type Execute } from './bootstrap';

export interface DataApiTarget {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

interface RdsDataModule {
  RDSDataClient: new (config: object) => {
    send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  };
  ExecuteStatementCommand: new (input: object) => unknown;
}

/** A Data API call can run at most 45 s on the server; give the round trip a little more. */
const STATEMENT_DEADLINE_MS = 60_000;

/**
 * Runs statements through the Data API client of the Lambda runtime's AWS SDK (service clients are
 * not bundled). `load` is the module loader, replaced in tests.
 */
export function dataApiExecutor(target: DataApiTarget, load: (name: string) => unknown = require): Execute {
  const sdk = load('@aws-sdk/client-rds-data') as RdsDataModule;
  const client = new sdk.RDSDataClient({});
  return async (sql) => {
    await client.send(
      new sdk.ExecuteStatementCommand({
        resourceArn: target.resourceArn,
        secretArn: target.secretArn,
        database: target.database,
        sql,
      }),
      { abortSignal: AbortSignal.timeout(STATEMENT_DEADLINE_MS) },
    );
  };
}

export interface BootstrapResult {
  PhysicalResourceId: string;
  Data: { User: string };
}

export async function handleBootstrap(
  event: CloudFormationCustomResourceEvent,
  executor: (target: DataApiTarget) => Execute = (target) => dataApiExecutor(target),
): Promise<BootstrapResult> {
  const props = event.ResourceProperties as Record<string, unknown>;
  const missing = ['ClusterArn', 'SecretArn', 'Database', 'User'].filter(
    (name) => typeof props[name] !== 'string' || !props[name],
  );
  if (missing.length > 0) throw new Error(`the resource properties ${missing.join(', ')} are required`);
  const [clusterArn, secretArn, database, user] = ['ClusterArn', 'SecretArn', 'Database', 'User'].map(
    (name) => props[name] as string,
  );
  const result = { PhysicalResourceId: `${database}/${user}`, Data: { User: user } };
  if (event.RequestType === 'Delete') return result;

  const statements = bootstrapStatements({ user, database });
  await runStatements(executor({ resourceArn: clusterArn, secretArn, database }), statements);
  console.log(
    JSON.stringify({ message: 'database user ready', database, user, statements: statements.length }),
  );
  return result;
}

export const handler = (event: CloudFormationCustomResourceEvent): Promise<BootstrapResult> =>
  handleBootstrap(event);
