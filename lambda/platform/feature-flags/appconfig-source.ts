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
 * token and answers the stored document when AppConfig has nothing newer. The session is started
 * with the function's cache age as its minimum poll interval: a session may not call
 * GetLatestConfiguration more often than that
 * (https://docs.aws.amazon.com/appconfig/2021-11-11/APIReference/API_appconfigdata_StartConfigurationSession.html).
 */
export class AppConfigFlagSource implements FlagSource {
  private provider?: AppConfigProvider;

  constructor(
    private readonly settings: FlagSettings,
    private readonly client: AppConfigDataClient = createFlagsClient(settings.timeoutMs),
  ) {}

  async fetch(): Promise<Uint8Array | undefined> {
    const { applicationId, environmentId, profileId, maxAgeSeconds } = this.settings;
    this.provider ??= new AppConfigProvider({
      application: applicationId,
      environment: environmentId,
      awsSdkV3Client: this.client,
    });
    return this.provider.get(profileId, {
      forceFetch: true,
      sdkOptions: { RequiredMinimumPollIntervalInSeconds: maxAgeSeconds },
    });
  }

  reset(): void {
    this.provider = undefined;
  }
}
