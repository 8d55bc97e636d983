/**
 * What the RealtimeScoring construct (lib/platform/constructs/serving/realtime-scoring.ts) writes into
 * a scoring function's environment, and the metrics such a function emits: one definition for both
 * sides, so a renamed variable or metric breaks the build, not the deployment.
 */
export const SCORING_ENV = {
  endpointName: 'MODEL_ENDPOINT_NAME',
  /** JSON `[{ name, weight }]`: the endpoint's production variants and their share of users. */
  variants: 'AB_VARIANTS',
  featureTimeoutMs: 'FEATURE_TIMEOUT_MS',
  modelTimeoutMs: 'MODEL_TIMEOUT_MS',
  /** The score every candidate gets when neither the model nor its records can give one. */
  fallbackPrior: 'FALLBACK_PRIOR',
} as const;

/** The variable holding the name of the feature group a function knows as `key` (`user` -> `FEATURE_GROUP_USER`). */
export function featureGroupEnv(key: string): string {
  return `FEATURE_GROUP_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/** Keys of feature groups: lower camelCase words, so each maps to one variable name. */
export const FEATURE_GROUP_KEY_PATTERN = /^[a-z][a-zA-Z0-9]{0,31}$/;

/**
 * Metrics a scoring function emits (EMF, namespace and `service` dimension from Powertools). Only
 * what goes wrong is counted: a request served by the model writes no metric line, so the share of
 * fallbacks is `ServedFromFallback` over Lambda's `Invocations`.
 */
export const SCORING_METRICS = {
  badRequest: 'BadRequest',
  servedFromFallback: 'ServedFromFallback',
  /** Candidates of fallback answers that got the global prior: no record held one for them. */
  globalPriorCandidates: 'GlobalPriorCandidates',
  recordsTimeout: 'RecordsTimeout',
  recordsError: 'RecordsError',
  /** Records the store answered with an error, left unprocessed, or that broke their schema. */
  recordsUnusable: 'RecordsUnusable',
  modelTimeout: 'ModelTimeout',
  modelError: 'ModelError',
  modelAnswerInvalid: 'ModelAnswerInvalid',
  unexpectedError: 'UnexpectedError',
} as const;
