import {
  connectWithRetry,
  isTransient,
  resetTokenCache,
  resolveClientConfig,
  TOKEN_REUSE_MS,
  type SignerSettings,
} from '../../../../lambda/platform/shared-db/connection';

const IAM_ENV = {
  DB_IAM_AUTH: 'true',
  DB_HOST: 'accounts.cluster-abc.us-east-1.rds.amazonaws.com',
  DB_PORT: '5432',
  DB_NAME: 'recommender',
  DB_USER: 'etl',
  DB_SSL: 'true',
  AWS_REGION: 'us-east-1',
};

/** Stands in for @aws-sdk/rds-signer: records what it was asked to sign and counts signings. */
function fakeSigner(answer: (n: number) => Promise<string> = async (n) => `token-${n}`) {
  const asked: SignerSettings[] = [];
  let signed = 0;
  return {
    asked,
    signed: () => signed,
    signer: (settings: SignerSettings) => {
      asked.push(settings);
      return { getAuthToken: () => answer(++signed) };
    },
  };
}

type PasswordFn = () => Promise<string>;

beforeEach(() => resetTokenCache());

describe('database settings with IAM authentication', () => {
  it('signs a token for the configured host, port, user and region, and connects with TLS verified', async () => {
    // GIVEN the environment a deployed function gets
    const fake = fakeSigner();
    // WHEN the settings are resolved and pg asks for the password
    const config = await resolveClientConfig(IAM_ENV, { signer: fake.signer });
    const password = await (config.password as PasswordFn)();
    // THEN the token is the password, signed for exactly that endpoint and database user
    expect(config).toMatchObject({ host: IAM_ENV.DB_HOST, port: 5432, database: 'recommender', user: 'etl' });
    expect(config.ssl).toEqual({ rejectUnauthorized: true });
    expect(password).toBe('token-1');
    expect(fake.asked).toEqual([
      { hostname: IAM_ENV.DB_HOST, port: 5432, username: 'etl', region: 'us-east-1' },
    ]);
  });

  it('reuses a token for 10 minutes, then signs a fresh one before the 15-minute expiry', async () => {
    // GIVEN a clock under the test's control
    let now = 1_000_000;
    const fake = fakeSigner();
    const config = await resolveClientConfig(IAM_ENV, { signer: fake.signer, now: () => now });
    const password = config.password as PasswordFn;
    // WHEN connections are opened within and after the reuse window
    const first = await password();
    now += TOKEN_REUSE_MS - 1;
    const reused = await password();
    now += 1;
    const fresh = await password();
    // THEN one signing serves the window, and the next connection gets a new token
    expect([first, reused, fresh]).toEqual(['token-1', 'token-1', 'token-2']);
    expect(fake.signed()).toBe(2);
  });

  it('names the signing failure, and signs again on the next attempt', async () => {
    // GIVEN a signer whose first signing fails (no credentials yet)
    const fake = fakeSigner(async (n) => {
      if (n === 1) throw new Error('Could not load credentials from any providers');
      return `token-${n}`;
    });
    const config = await resolveClientConfig(IAM_ENV, { signer: fake.signer });
    const password = config.password as PasswordFn;
    // WHEN pg asks twice THEN the first says what failed and the second is not stuck on it
    await expect(password()).rejects.toThrow(
      /cannot sign an IAM database token for etl@accounts\.cluster-abc.*Could not load credentials/,
    );
    await expect(password()).resolves.toBe('token-2');
  });

  it('gives up on a signing that hangs, within its deadline', async () => {
    // GIVEN a signer that never answers
    const fake = fakeSigner(() => new Promise<string>(() => undefined));
    const config = await resolveClientConfig(IAM_ENV, { signer: fake.signer, signTimeoutMs: 50 });
    // WHEN pg asks for the password THEN it fails instead of hanging the function
    await expect((config.password as PasswordFn)()).rejects.toThrow(
      /signing the database token did not answer within 50 ms/,
    );
  });

  it('names every missing setting, and refuses IAM authentication without TLS', async () => {
    await expect(resolveClientConfig({ DB_IAM_AUTH: 'true', DB_PORT: 'x', DB_SSL: 'true' })).rejects.toThrow(
      'DB_IAM_AUTH=true needs DB_HOST, DB_NAME, DB_USER, AWS_REGION, DB_PORT (an integer port)',
    );
    await expect(resolveClientConfig({ ...IAM_ENV, DB_SSL: 'false' })).rejects.toThrow(/requires TLS/);
  });

  it('the real signer builds a connect token for the user locally, without calling AWS', async () => {
    // GIVEN static credentials in the environment, as Lambda provides them
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'session',
    });
    try {
      // WHEN the default signer signs
      const config = await resolveClientConfig(IAM_ENV);
      const token = await (config.password as PasswordFn)();
      // THEN the token is a presigned rds-db connect request for that endpoint and user
      expect(token.startsWith(`${IAM_ENV.DB_HOST}:5432/?`)).toBe(true);
      const query = new URLSearchParams(token.slice(token.indexOf('?') + 1));
      expect(query.get('Action')).toBe('connect');
      expect(query.get('DBUser')).toBe('etl');
      expect(query.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/us-east-1\/rds-db\/aws4_request$/);
      expect(query.get('X-Amz-Expires')).toBe('900');
    } finally {
      process.env = saved;
    }
  });
});

describe('database settings for local runs', () => {
  it('falls back to PG* variables and names what is missing', async () => {
    await expect(resolveClientConfig({})).rejects.toThrow(/DB_IAM_AUTH=true .* or PGHOST/);
    expect(await resolveClientConfig({ PGHOST: 'h', PGPORT: '6543', PGPASSWORD: 'p' })).toMatchObject({
      host: 'h',
      port: 6543,
      password: 'p',
    });
  });
});

describe('connecting', () => {
  it('classifies transient failures', () => {
    expect(isTransient({ code: 'ECONNREFUSED' })).toBe(true);
    expect(isTransient({ code: '57P03', message: 'the database system is starting up' })).toBe(true);
    expect(isTransient({ code: '28P01', message: 'password authentication failed' })).toBe(false);
    expect(isTransient({ code: '28000', message: 'PAM authentication failed for user "etl"' })).toBe(false);
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
