import { GetLatestConfigurationCommand } from '@aws-sdk/client-appconfigdata';
import { abWeightsSchema, flagValues, toggle } from '../../../../lambda/platform/feature-flags/flag-document';
import {
  FlagsInvalidError,
  type FlagReadProblem,
} from '../../../../lambda/platform/feature-flags/flag-reader';
import { MIN_POLL_INTERVAL_SECONDS } from '../../../../lambda/platform/feature-flags/appconfig-source';
import { functionFlags } from '../../../../lambda/platform/feature-flags/function-flags';
import { readFlagSettings } from '../../../../lambda/platform/feature-flags/function-contract';
import { DeadlineExceededError } from '../../../../lambda/platform/shared/deadline';
import { EnvReader } from '../../../../lambda/platform/shared/env-reader';
import {
  FLAGS_APPLICATION_ID,
  FLAGS_ENVIRONMENT_ID,
  FLAGS_PROFILE_ID,
  flagEnvironment,
  mockAppConfig,
} from '../../../support/appconfig-flags';

const appConfig = mockAppConfig();
const schema = flagValues({
  abWeights: abWeightsSchema(['champion', 'challenger']),
  challengerTraffic: toggle(),
});
const DEFAULTS = {
  abWeights: { enabled: true, champion: 9, challenger: 1 },
  challengerTraffic: { enabled: true },
};
const CHANGED = {
  abWeights: { enabled: true, champion: 1, challenger: 1 },
  challengerTraffic: { enabled: false },
};
const MAX_AGE_S = 30;
const TIMEOUT_MS = 40;

afterEach(() => appConfig.reset());
afterAll(() => appConfig.client.restore());

/** A reader on a clock the test moves, recording the problems it reports. */
function reader(defaults: unknown = DEFAULTS) {
  const read = new EnvReader(flagEnvironment(defaults, { maxAgeSeconds: MAX_AGE_S, timeoutMs: TIMEOUT_MS }));
  const settings = readFlagSettings(
    read,
    flagEnvironment(defaults, { maxAgeSeconds: MAX_AGE_S, timeoutMs: TIMEOUT_MS }),
  );
  read.done('test flags');
  const clock = { now: 1_000_000 };
  const problems: { problem: FlagReadProblem; error: unknown }[] = [];
  const flags = functionFlags({
    schema,
    settings,
    fallback: DEFAULTS as never,
    onProblem: (problem, error) => problems.push({ problem, error }),
    now: () => clock.now,
  });
  return { flags, clock, problems, advance: (seconds: number) => (clock.now += seconds * 1000) };
}

async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await call();
  return { value, ms: performance.now() - started };
}

describe('flag reader, AppConfig answering', () => {
  test('starts one session on the profile with the cache age as its poll interval, then serves the document', async () => {
    // GIVEN AppConfig serving changed flags
    appConfig.serves(CHANGED);
    const { flags, problems } = reader();
    // WHEN two requests read the flags within the cache age
    const first = await flags.current();
    const second = await flags.current();
    // THEN both get AppConfig's values, from one session and one poll
    expect(first).toEqual(CHANGED);
    expect(second).toEqual(CHANGED);
    expect(appConfig.sessions().map((c) => c.args[0].input)).toEqual([
      {
        ApplicationIdentifier: FLAGS_APPLICATION_ID,
        EnvironmentIdentifier: FLAGS_ENVIRONMENT_ID,
        ConfigurationProfileIdentifier: FLAGS_PROFILE_ID,
        // AppConfig's minimum, below the cache age: a poll timed by the cache is never too early.
        RequiredMinimumPollIntervalInSeconds: MIN_POLL_INTERVAL_SECONDS,
      },
    ]);
    expect(appConfig.polls()).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  test('a change takes effect at the first read after the cache age, on the same session', async () => {
    // GIVEN flags read once
    appConfig.serves(DEFAULTS);
    const { flags, advance } = reader();
    expect(await flags.current()).toEqual(DEFAULTS);
    // WHEN AppConfig deploys a change and less than the cache age passes
    appConfig.serves(CHANGED);
    advance(MAX_AGE_S - 1);
    // THEN the old flags still serve, without a call
    expect(await flags.current()).toEqual(DEFAULTS);
    expect(appConfig.polls()).toHaveLength(1);
    // WHEN the cache age has passed THEN the change serves, polled with the token the last poll gave
    advance(1);
    expect(await flags.current()).toEqual(CHANGED);
    expect(appConfig.sessions()).toHaveLength(1);
    expect(appConfig.polls().map((c) => c.args[0].input.ConfigurationToken)).toEqual([
      'initial-token',
      'poll-token-1',
    ]);
  });

  test('an unchanged configuration (an empty answer) keeps the flags last read', async () => {
    appConfig.serves(CHANGED);
    const { flags, advance, problems } = reader();
    await flags.current();
    // WHEN AppConfig answers that nothing changed
    appConfig.client.on(GetLatestConfigurationCommand).resolves({
      Configuration: new Uint8Array() as never,
      NextPollConfigurationToken: 'poll-token-next',
      NextPollIntervalInSeconds: MAX_AGE_S,
    });
    advance(MAX_AGE_S);
    // THEN the flags last read still serve, and nothing is reported
    expect(await flags.current()).toEqual(CHANGED);
    expect(problems).toEqual([]);
  });
});

describe('flag reader, AppConfig failing', () => {
  test('a failing service: the defaults serve, FlagsUnavailable is reported, and the next try waits the cache age', async () => {
    // GIVEN AppConfig failing every call
    appConfig.fails();
    const { flags, advance, problems } = reader();
    // WHEN requests read the flags
    expect(await flags.current()).toEqual(DEFAULTS);
    expect(await flags.current()).toEqual(DEFAULTS);
    // THEN one attempt was made and reported, not one per request
    expect(appConfig.sessions()).toHaveLength(1);
    expect(problems.map((p) => p.problem)).toEqual(['unavailable']);
    // WHEN the cache age passes and AppConfig recovers THEN a new session serves its flags
    appConfig.client.reset();
    appConfig.serves(CHANGED);
    advance(MAX_AGE_S);
    expect(await flags.current()).toEqual(CHANGED);
    expect(appConfig.sessions()).toHaveLength(1);
  });

  test("a hanging service: the cold start's first request waits no longer than the deadline", async () => {
    // GIVEN AppConfig that never answers
    appConfig.hangs();
    const { flags, problems } = reader();
    // WHEN the first request of a cold start reads the flags
    const { value, ms } = await timed(() => flags.current());
    // THEN it gets the defaults by the deadline (and some scheduling slack), the timeout reported
    expect(value).toEqual(DEFAULTS);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(ms).toBeLessThan(TIMEOUT_MS + 200);
    expect(problems).toHaveLength(1);
    expect(problems[0].problem).toBe('unavailable');
    expect(problems[0].error).toBeInstanceOf(DeadlineExceededError);
    // AND the next request does not wait again
    expect((await timed(() => flags.current())).ms).toBeLessThan(TIMEOUT_MS / 2);
  });

  test('after a failed read the last good flags serve, and the next read starts a new session', async () => {
    appConfig.serves(CHANGED);
    const { flags, advance } = reader();
    expect(await flags.current()).toEqual(CHANGED);
    // WHEN AppConfig fails after the cache age
    appConfig.client.reset();
    appConfig.fails();
    advance(MAX_AGE_S);
    // THEN the last good flags serve, not the defaults
    expect(await flags.current()).toEqual(CHANGED);
    // WHEN it recovers THEN the reader starts over with a session (its token may be spent)
    appConfig.client.reset();
    appConfig.serves(DEFAULTS);
    advance(MAX_AGE_S);
    expect(await flags.current()).toEqual(DEFAULTS);
    expect(appConfig.sessions()).toHaveLength(1);
    expect(appConfig.polls()[0].args[0].input.ConfigurationToken).toBe('initial-token');
  });

  test.each([
    ['not JSON', '{"abWeights": '],
    ['weights summing to 0', { ...CHANGED, abWeights: { enabled: true, champion: 0, challenger: 0 } }],
    [
      'an unknown variant',
      { ...CHANGED, abWeights: { enabled: true, champion: 1, challenger: 1, third: 1 } },
    ],
    ['a missing flag', { abWeights: CHANGED.abWeights }],
  ])('a document with %s: FlagsInvalid is reported and the last good flags serve', async (_, document) => {
    appConfig.serves(CHANGED);
    const { flags, advance, problems } = reader();
    await flags.current();
    appConfig.serves(document);
    advance(MAX_AGE_S);
    expect(await flags.current()).toEqual(CHANGED);
    expect(problems.map((p) => p.problem)).toEqual(['invalid']);
    expect(problems[0].error).toBeInstanceOf(FlagsInvalidError);
  });

  test('defaults the schema refuses fail the cold start, naming the field', () => {
    expect(() => reader({ ...DEFAULTS, abWeights: { enabled: true, champion: -1, challenger: 1 } })).toThrow(
      /FLAGS_DEFAULTS: abWeights\.champion must be at least 0/,
    );
  });

  test('without flags deployed, the fallback serves and AppConfig is never called', async () => {
    const flags = functionFlags({ schema, settings: undefined, fallback: DEFAULTS as never });
    expect(await flags.current()).toEqual(DEFAULTS);
    expect(appConfig.client.calls()).toHaveLength(0);
  });
});
