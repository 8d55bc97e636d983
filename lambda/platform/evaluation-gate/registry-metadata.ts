import type { GateResult } from './decide';

/**
 * `CustomerMetadataProperties` of a Model Registry package: at most 50 entries, keys 1-128 and
 * values 1-256 characters, both matching `^([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)$` (letters, spaces,
 * digits and `_ . : / = + - @`). CreateModelPackage rejects anything else, so the gate's free-text
 * reasons are reduced to that alphabet here rather than sent as they are.
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackage.html
 */
const OUTSIDE_ALPHABET = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]+/gu;
const MAX_VALUE = 256;

export function metadataValue(text: string): string {
  const cleaned = text.replace(OUTSIDE_ALPHABET, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_VALUE).trim();
  return cleaned === '' ? 'none' : cleaned;
}

/** What the registry records of the gate's decision next to the package. */
export function registryMetadata(
  result: GateResult,
  trainingJob: string | undefined,
): Record<string, string> {
  const number = (value: number | undefined) => (value === undefined ? 'none' : value.toFixed(6));
  return {
    trainingJob: metadataValue(trainingJob ?? 'unknown'),
    decision: result.decision,
    // Which metric the numbers are, and which way is better: 0.45 means little without them.
    metric: metadataValue(result.metric ?? 'unknown'),
    direction: result.direction ?? 'unknown',
    candidate: number(result.candidate),
    baseline: number(result.baseline),
    champion: number(result.champion),
    reason: metadataValue(result.reasons[0] ?? ''),
  };
}
