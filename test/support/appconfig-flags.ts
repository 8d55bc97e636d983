/**
 * AppConfig's data plane mocked at the SDK client boundary (checked against its API model), for
 * tests of functions that read feature flags: a session, then the document, or an outage.
 */
import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import { FLAG_ENV } from '../../lambda/platform/feature-flags/function-contract';
import { apiCheckedMockClient } from './aws-api-model/mock';

export const FLAGS_APPLICATION_ID = 'abc1234';
export const FLAGS_ENVIRONMENT_ID = 'env5678';
export const FLAGS_PROFILE_ID = 'prof901';

/** A function environment with flags: where to read them, how long to trust them, the defaults. */
export function flagEnvironment(
  defaults: unknown,
  overrides: { maxAgeSeconds?: number; timeoutMs?: number } = {},
): Record<string, string> {
  return {
    [FLAG_ENV.applicationId]: FLAGS_APPLICATION_ID,
    [FLAG_ENV.environmentId]: FLAGS_ENVIRONMENT_ID,
    [FLAG_ENV.profileId]: FLAGS_PROFILE_ID,
    [FLAG_ENV.defaults]: JSON.stringify(defaults),
    [FLAG_ENV.maxAgeSeconds]: String(overrides.maxAgeSeconds ?? 30),
    [FLAG_ENV.timeoutMs]: String(overrides.timeoutMs ?? 50),
  };
}

/** The AppConfig data client, mocked at its prototype: every instance the code builds answers here. */
export function mockAppConfig() {
  const client = apiCheckedMockClient(AppConfigDataClient);
  let poll = 0;
  const session = () =>
    client.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'initial-token' });
  return {
    client,
    /** AppConfig answers `values` (the data plane's view of a feature flag document). */
    serves(values: unknown) {
      session();
      client.on(GetLatestConfigurationCommand).callsFake(() => ({
        Configuration: new TextEncoder().encode(typeof values === 'string' ? values : JSON.stringify(values)),
        ContentType: 'application/json',
        NextPollConfigurationToken: `poll-token-${++poll}`,
        NextPollIntervalInSeconds: 30,
      }));
    },
    /** Every call fails, as an unreachable or throttling service would. */
    fails(
      error: Error = Object.assign(new Error('Service Unavailable'), { name: 'InternalServerException' }),
    ) {
      client.on(StartConfigurationSessionCommand).rejects(error);
      client.on(GetLatestConfigurationCommand).rejects(error);
    },
    /** No call ever answers. */
    hangs() {
      client.on(StartConfigurationSessionCommand).callsFake(() => new Promise(() => undefined));
      client.on(GetLatestConfigurationCommand).callsFake(() => new Promise(() => undefined));
    },
    /** Forgets every behaviour and call, and numbers poll tokens from 1 again. */
    reset() {
      client.reset();
      poll = 0;
    },
    sessions: () => client.commandCalls(StartConfigurationSessionCommand),
    polls: () => client.commandCalls(GetLatestConfigurationCommand),
  };
}
