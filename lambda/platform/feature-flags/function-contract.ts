/**
 * What the FeatureFlags construct (lib/platform/constructs/flags/feature-flags.ts) writes into the
 * environment of a function that reads the flags, and the metrics the reader counts: one
 * definition for both sides, so a renamed variable breaks the build, not the deployment.
 */
import { EnvReader } from '../shared/env-reader';

export const FLAG_ENV = {
  applicationId: 'FLAGS_APPLICATION_ID',
  environmentId: 'FLAGS_ENVIRONMENT_ID',
  profileId: 'FLAGS_PROFILE_ID',
  /** JSON of the flag values deployed with the stack: served until AppConfig answers, and when it cannot. */
  defaults: 'FLAGS_DEFAULTS',
  /** How long a container serves the flags it read before it asks again. */
  maxAgeSeconds: 'FLAGS_MAX_AGE_SECONDS',
  /** Deadline of one read, in ms: no request waits longer for the flags. */
  timeoutMs: 'FLAGS_TIMEOUT_MS',
  /** The validator's copy of the endpoint's variant names (JSON), the keys of the A/B weights flag. */
  variantNames: 'FLAGS_VARIANT_NAMES',
} as const;

/**
 * The reader's metrics: AppConfig could not answer in time (or at all), or answered a document the
 * design's schema refuses. Either way the function serves the last good flags, else the defaults.
 */
export const FLAG_METRICS = {
  unavailable: 'FlagsUnavailable',
  invalid: 'FlagsInvalid',
} as const;

/** Bounds of the cache age: AppConfig's minimum poll interval, and a day. */
export const FLAG_MAX_AGE_SECONDS = { min: 15, max: 86_400 } as const;

/** Where a function reads its flags, and how long it trusts them. */
export interface FlagSettings {
  readonly applicationId: string;
  readonly environmentId: string;
  readonly profileId: string;
  /** Parsed JSON of the deployed values; the design's schema checks it when the reader is built. */
  readonly defaults: unknown;
  readonly maxAgeSeconds: number;
  readonly timeoutMs: number;
}

/**
 * Reads the flag settings, or undefined when the function was deployed without flags (it then
 * serves its deployed configuration). Problems are recorded on `read`, which the caller's
 * configuration reader throws with its own.
 */
export function readFlagSettings(read: EnvReader, env: NodeJS.ProcessEnv): FlagSettings | undefined {
  if (!env[FLAG_ENV.profileId]) return undefined;
  let defaults: unknown;
  try {
    defaults = JSON.parse(env[FLAG_ENV.defaults] ?? '');
  } catch {
    read.problem(`${FLAG_ENV.defaults} must be JSON`);
  }
  return {
    applicationId: read.text(FLAG_ENV.applicationId),
    environmentId: read.text(FLAG_ENV.environmentId),
    profileId: read.text(FLAG_ENV.profileId),
    defaults,
    maxAgeSeconds: read.integer(FLAG_ENV.maxAgeSeconds, FLAG_MAX_AGE_SECONDS.min, FLAG_MAX_AGE_SECONDS.max),
    timeoutMs: read.integer(FLAG_ENV.timeoutMs, 1, 10_000),
  };
}
