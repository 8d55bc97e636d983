/**
 * Custom resource (behind the CDK provider framework) that creates the IAM-authenticated database
 * user at deploy time, before any function connects.
 *
 * It runs outside the VPC and sends the SQL of ./bootstrap.ts through the RDS Data API, which reads
 * the master user's secret server-side: this function never holds the password, and nothing in the
 * VPC needs a route to Secrets Manager (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html).
 *
 * Properties: `ClusterArn`, `SecretArn` (the master secret), `Database`, `User`.
 * Create and Update run every statement (they are idempotent); Delete leaves the database as it is,
 * since the user goes with the cluster, and a retained cluster keeps working.
 */
import type { z } from 'zod';
import { customResourceEvent } from '../shared/custom-resource-event';
import { fields, lambdaEntry, powertools } from '../shared/lambda-entry';
import { SDK_RETRY } from '../shared/sdk-retry';
import { bootstrapStatements, runStatements, type Execute } from './bootstrap';

const tools = powertools();
const { logger, tracer } = tools;

export const BootstrapEvent = customResourceEvent(
  fields.object({
    ClusterArn: fields.text(),
    SecretArn: fields.text(),
    Database: fields.text(),
    User: fields.text(),
  }),
);
export type BootstrapEvent = z.output<typeof BootstrapEvent>;

export interface DataApiTarget {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

interface RdsDataModule {
  RDSDataClient: new (config: object) => DataApi['client'];
  ExecuteStatementCommand: new (input: object) => unknown;
}

/** A Data API client and the command it sends. */
export interface DataApi {
  readonly client: { send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> };
  readonly ExecuteStatementCommand: new (input: object) => unknown;
}

/** A Data API call can run at most 45 s on the server; give the round trip a little more. */
const STATEMENT_DEADLINE_MS = 60_000;

/**
 * The Data API client of the Lambda runtime's AWS SDK: the one SDK client this repository does not
 * pin (@aws-sdk/client-rds-data is not a dependency), so it is loaded at run time and tested
 * against the pinned API model instead. `load` is the module loader, replaced in tests.
 *
 * The SDK's standard retry covers throttling, dropped connections and 5xx answers, a
 * DatabaseUnavailableException (504) among them, for a few attempts within seconds
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html); `runStatements`
 * waits out the database states that last longer.
 */
export function loadDataApi(load: (name: string) => unknown = require): DataApi {
  const sdk = load('@aws-sdk/client-rds-data') as RdsDataModule;
  return {
    client: tracer.captureAWSv3Client(new sdk.RDSDataClient({ ...SDK_RETRY.standard })),
    ExecuteStatementCommand: sdk.ExecuteStatementCommand,
  };
}

/** Runs statements on `target` through `api`, each within STATEMENT_DEADLINE_MS. */
export function dataApiExecutor(target: DataApiTarget, api: DataApi): Execute {
  return async (sql) => {
    await api.client.send(
      new api.ExecuteStatementCommand({
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
  event: BootstrapEvent,
  executor: (target: DataApiTarget) => Execute,
): Promise<BootstrapResult> {
  const {
    ClusterArn: clusterArn,
    SecretArn: secretArn,
    Database: database,
    User: user,
  } = event.ResourceProperties;
  const result = { PhysicalResourceId: `${database}/${user}`, Data: { User: user } };
  if (event.RequestType === 'Delete') return result;

  const statements = bootstrapStatements({ user, database });
  await runStatements(executor({ resourceArn: clusterArn, secretArn, database }), statements);
  logger.info('database user ready', { database, user, statements: statements.length });
  return result;
}

/** Built on the first invocation, once per container: a Delete never loads the SDK. */
let dataApi: DataApi | undefined;

export const handler = lambdaEntry(tools, BootstrapEvent, (event) =>
  handleBootstrap(event, (target) => dataApiExecutor(target, (dataApi ??= loadDataApi()))),
);
