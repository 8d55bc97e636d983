import type { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import type { z } from 'zod';
import { valueProblems } from './flag-document';
import { AppConfigFlagSource, createFlagsClient } from './appconfig-source';
import { FLAG_ENV, FLAG_METRICS, type FlagSettings } from './function-contract';
import { FlagReader, type FlagReadProblem } from './flag-reader';

/** What a handler reads its flags through: the same call whether or not flags are deployed. */
export interface FunctionFlags<T> {
  current(): Promise<T>;
}

/** The metric each read problem is counted as. */
export const FLAG_PROBLEM_METRIC: Readonly<Record<FlagReadProblem, string>> = {
  unavailable: FLAG_METRICS.unavailable,
  invalid: FLAG_METRICS.invalid,
};

/**
 * The flags of a function: read from AppConfig when the function was deployed with flags, else the
 * design's values for the deployed configuration, always. The deployed defaults must pass the
 * design's schema: one that does not is a deployment bug, and fails the cold start naming each field.
 */
export function functionFlags<S extends z.ZodType>(options: {
  readonly schema: S;
  readonly settings?: FlagSettings;
  /** The values served without flags deployed. */
  readonly fallback: z.output<S>;
  readonly onProblem?: (problem: FlagReadProblem, error: unknown) => void;
  /** Wraps the AppConfig client, e.g. to trace it. @default - the client as built */
  readonly wrapClient?: (client: AppConfigDataClient) => AppConfigDataClient;
  readonly now?: () => number;
}): FunctionFlags<z.output<S>> {
  const { schema, settings } = options;
  if (!settings) return { current: async () => options.fallback };
  const problems = valueProblems(schema, settings.defaults);
  if (problems.length > 0) throw new Error(`invalid ${FLAG_ENV.defaults}: ${problems.join('; ')}`);
  const client = createFlagsClient(settings.timeoutMs);
  return new FlagReader({
    schema,
    defaults: schema.parse(settings.defaults),
    source: new AppConfigFlagSource(settings, options.wrapClient ? options.wrapClient(client) : client),
    maxAgeMs: settings.maxAgeSeconds * 1000,
    timeoutMs: settings.timeoutMs,
    onProblem: options.onProblem,
    now: options.now,
  });
}
