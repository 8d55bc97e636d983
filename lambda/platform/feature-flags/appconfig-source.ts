import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig';
import { SDK_RETRY } from '../shared/sdk-retry';
import type { FlagSettings } from './function-contract';
import type { FlagSource } from './flag-reader';

/**
 * The AppConfig data plane's client for flags: one attempt (the last good flags replace a failed
 * read), and socket timeouts at the read's deadline, so a request the deadline gave up on does not
 * hold its connection open behind it.
 */
export function createFlagsClient(timeoutMs: number): AppConfigDataClient {
  return new AppConfigDataClient({
    ...SDK_RETRY.once,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
}

/**
 * Reads a feature flag profile through Powertools' AppConfig provider, which keeps the session
 * token and answers the stored document when AppConfig has nothing newer. A session may not call
 * GetLatestConfiguration more often than its RequiredMinimumPollIntervalInSeconds ("Request too
 * early" otherwise,
 * https://docs.aws.amazon.com/appconfig/2021-11-11/APIReference/API_appconfigdata_StartConfigurationSession.html).
 * The reader polls once per cache age, timed from before the session started, so a session asking
 * for exactly that age would be refused about every other poll: it asks for AppConfig's minimum,
 * 15 s, and the cache age alone paces the polls.
 */
/** The smallest RequiredMinimumPollIntervalInSeconds AppConfig accepts (the API model's range). */
export const MIN_POLL_INTERVAL_SECONDS = 15;

export class AppConfigFlagSource implements FlagSource {
  private provider?: AppConfigProvider;

  constructor(
    private readonly settings: FlagSettings,
    private readonly client: AppConfigDataClient = createFlagsClient(settings.timeoutMs),
  ) {}

  async fetch(): Promise<Uint8Array | undefined> {
    const { applicationId, environmentId, profileId } = this.settings;
    this.provider ??= new AppConfigProvider({
      application: applicationId,
      environment: environmentId,
      awsSdkV3Client: this.client,
    });
    return this.provider.get(profileId, {
      forceFetch: true,
      sdkOptions: { RequiredMinimumPollIntervalInSeconds: MIN_POLL_INTERVAL_SECONDS },
    });
  }

  reset(): void {
    this.provider = undefined;
  }
}
