import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { connectWithRetry, isTransient, resolveClientConfig } from '../../../lambda/shared-db/connection';

const secrets = mockClient(SecretsManagerClient);

describe('database settings', () => {
  it('reads the RDS-shaped secret once per container', async () => {
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({
        host: 'db.internal',
        port: 5432,
        dbname: 'rec',
        username: 'etl',
        password: 'p',
      }),
    });
    const env = { DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:db', DB_SSL: 'true' };
    const make = () => new SecretsManagerClient({ region: 'us-east-1' });
    const first = await resolveClientConfig(env, make);
    const second = await resolveClientConfig(env, make);
    expect(first).toMatchObject({
      host: 'db.internal',
      port: 5432,
      database: 'rec',
      user: 'etl',
      password: 'p',
    });
    expect(first.ssl).toEqual({ rejectUnauthorized: true });
    expect(second).toEqual(first);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('falls back to PG* variables and names what is missing', async () => {
    await expect(resolveClientConfig({})).rejects.toThrow(/DB_SECRET_ARN or PGHOST/);
    expect(await resolveClientConfig({ PGHOST: 'h', PGPORT: '6543' })).toMatchObject({
      host: 'h',
      port: 6543,
    });
  });

  it('classifies transient failures', () => {
    expect(isTransient({ code: 'ECONNREFUSED' })).toBe(true);
    expect(isTransient({ code: '57P03', message: 'the database system is starting up' })).toBe(true);
    expect(isTransient({ code: '28P01', message: 'password authentication failed' })).toBe(false);
  });

  it('retries a refused connection with backoff, then gives a clear error', async () => {
    const delays: number[] = [];
    const attempt = connectWithRetry(
      { host: '127.0.0.1', port: 1, connectionTimeoutMillis: 1000 },
      { attempts: 3, baseDelayMs: 100, maxDelayMs: 150, sleep: async (ms) => void delays.push(ms) },
    );
    await expect(attempt).rejects.toThrow('database 127.0.0.1:1 unreachable after 3 attempts');
    expect(delays).toHaveLength(2);
    expect(delays.every((d) => d >= 75 && d <= 150)).toBe(true);
  });
});
