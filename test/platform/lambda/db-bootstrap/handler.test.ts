import { captureOutput, lambdaContext, type StdoutCapture } from '../support/invocation';
import { ParseError } from '@aws-lambda-powertools/parser';
import { validateRequest } from '../../../support/aws-api-model';
import { bootstrapStatements, runStatements } from '../../../../lambda/platform/db-bootstrap/bootstrap';
import {
  dataApiExecutor,
  handleBootstrap,
  handler,
  loadDataApi,
  type BootstrapEvent,
  type DataApiTarget,
} from '../../../../lambda/platform/db-bootstrap/handler';

const PROPS = {
  ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider',
  ClusterArn: 'arn:aws:rds:us-east-1:111122223333:cluster:accounts',
  SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:master-AbCdEf',
  Database: 'recommender',
  User: 'etl',
};

function event(type: 'Create' | 'Update' | 'Delete', props: typeof PROPS = PROPS): BootstrapEvent {
  return { RequestType: type, ResourceProperties: props };
}

function dataApiError(name: string): Error {
  return Object.assign(new Error(`${name} from the Data API`), { name });
}

describe('the bootstrap custom resource', () => {
  it('runs every statement against the given cluster, as the master secret, on create and update', async () => {
    for (const type of ['Create', 'Update'] as const) {
      // GIVEN an executor that records what it was built for and what it ran
      const targets: DataApiTarget[] = [];
      const ran: string[] = [];
      // WHEN CloudFormation sends the event
      const result = await handleBootstrap(event(type), (target) => {
        targets.push(target);
        return async (sql) => void ran.push(sql);
      });
      // THEN every statement ran once, in order, against that cluster and database
      expect(targets).toEqual([
        { resourceArn: PROPS.ClusterArn, secretArn: PROPS.SecretArn, database: 'recommender' },
      ]);
      expect(ran).toEqual(bootstrapStatements({ user: 'etl', database: 'recommender' }));
      expect(result).toEqual({ PhysicalResourceId: 'recommender/etl', Data: { User: 'etl' } });
    }
  });

  it('leaves the database alone on delete', async () => {
    const executor = jest.fn();
    await expect(handleBootstrap(event('Delete'), executor)).resolves.toMatchObject({
      PhysicalResourceId: 'recommender/etl',
    });
    expect(executor).not.toHaveBeenCalled();
  });

  it('names every missing property, and refuses identifiers it would have to escape', async () => {
    // The Lambda entry parses the event: a property missing is named before any SQL is built.
    const stdout: StdoutCapture = captureOutput();
    try {
      const error = await handler(
        { RequestType: 'Create', ResourceProperties: { ServiceToken: 'x', User: 'etl' } },
        lambdaContext('bootstrap-1'),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParseError);
      expect((error as Error).message).toBe(
        'invalid event: ResourceProperties.ClusterArn is missing; ResourceProperties.SecretArn is missing; ' +
          'ResourceProperties.Database is missing',
      );
    } finally {
      stdout.restore();
    }
    await expect(
      handleBootstrap(
        event('Create', { ...PROPS, User: 'etl"; DROP TABLE accounts; --' }),
        () => async () => {},
      ),
    ).rejects.toThrow(/user must be a lower-case identifier/);
  });
});

describe('running the statements', () => {
  it('waits for a paused database to resume, with backoff', async () => {
    // GIVEN a database that answers "resuming" twice, then "writer unavailable" once
    const answers = [
      'DatabaseResumingException',
      'DatabaseResumingException',
      'DatabaseUnavailableException',
    ];
    const delays: number[] = [];
    const ran: string[] = [];
    // WHEN the statements run
    await runStatements(
      async (sql) => {
        const next = answers.shift();
        if (next) throw dataApiError(next);
        ran.push(sql);
      },
      ['SELECT 1', 'SELECT 2'],
      { deadlineMs: 60_000, baseDelayMs: 1000, maxDelayMs: 3000, sleep: async (ms) => void delays.push(ms) },
    );
    // THEN each statement ran once the database answered, after capped exponential waits
    expect(ran).toEqual(['SELECT 1', 'SELECT 2']);
    expect(delays).toEqual([1000, 2000, 3000]);
  });

  it('fails at once on an error that waiting does not cure, naming the statement', async () => {
    const execute = jest.fn(async () => {
      throw dataApiError('BadRequestException');
    });
    await expect(
      runStatements(execute, ['SELECT 1', 'SELECT 2'], { deadlineMs: 60_000, baseDelayMs: 1, maxDelayMs: 1 }),
    ).rejects.toThrow(/statement 1 of 2 failed after 1 attempt\(s\) .*BadRequestException/);
    expect(execute).toHaveBeenCalledTimes(1);
  });

  it('gives up on a database that never resumes, within its deadline', async () => {
    // GIVEN a clock that the waits advance, and a database that stays paused
    let now = 0;
    const sleep = async (ms: number) => void (now += ms);
    // WHEN the statements run with a 30 s deadline THEN they fail before it, saying why
    await expect(
      runStatements(
        async () => {
          throw dataApiError('DatabaseResumingException');
        },
        ['SELECT 1'],
        { deadlineMs: 30_000, baseDelayMs: 2000, maxDelayMs: 8000, sleep, now: () => now },
      ),
    ).rejects.toThrow(/statement 1 of 1 failed after \d+ attempt\(s\) in \d+ s: DatabaseResumingException/);
    expect(now).toBeLessThanOrEqual(30_000);
  });
});

describe('the Data API client boundary', () => {
  it('sends ExecuteStatement with the cluster, the secret, the database and the SQL, with a deadline', async () => {
    // GIVEN the runtime SDK's module, replaced at the loader
    const sent: Array<{ input: unknown; abortSignal?: AbortSignal }> = [];
    class ExecuteStatementCommand {
      constructor(readonly input: unknown) {}
    }
    class RDSDataClient {
      async send(command: ExecuteStatementCommand, options?: { abortSignal?: AbortSignal }) {
        sent.push({ input: command.input, abortSignal: options?.abortSignal });
        return { numberOfRecordsUpdated: 0 };
      }
    }
    const loaded: string[] = [];
    const configs: unknown[] = [];
    const execute = dataApiExecutor(
      { resourceArn: PROPS.ClusterArn, secretArn: PROPS.SecretArn, database: 'recommender' },
      loadDataApi((name) => {
        loaded.push(name);
        return {
          RDSDataClient: class extends RDSDataClient {
            constructor(config: unknown) {
              super();
              configs.push(config);
            }
          },
          ExecuteStatementCommand,
        };
      }),
    );
    // WHEN a statement runs
    await execute('GRANT rds_iam TO "etl"');
    // THEN exactly one ExecuteStatement went out, bounded in time
    expect(loaded).toEqual(['@aws-sdk/client-rds-data']);
    // AND the client retries as the SDK's standard mode does, no loop of ours around it
    expect(configs).toEqual([{ maxAttempts: 3, retryMode: 'standard' }]);
    expect(sent).toHaveLength(1);
    expect(sent[0].input).toEqual({
      resourceArn: PROPS.ClusterArn,
      secretArn: PROPS.SecretArn,
      database: 'recommender',
      sql: 'GRANT rds_iam TO "etl"',
    });
    expect(sent[0].abortSignal).toBeInstanceOf(AbortSignal);
    // AND the request is one the Data API accepts (the runtime's client is not installed here, so
    // the request is checked against the pinned API model directly)
    expect(validateRequest('rds-data', 'ExecuteStatement', sent[0].input)).toEqual([]);
  });
});
