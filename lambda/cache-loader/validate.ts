import {
  KEY_PART_PATTERN,
  isScoredItem,
  type RecommendationList,
  type ScoredItem,
} from '../shared/cache-layout';

/** A user's list as the training job writes it, checked. */
export interface UserLine {
  readonly userId: string;
  readonly list: RecommendationList;
}

export type ParsedLine =
  { readonly ok: true; readonly value: UserLine } | { readonly ok: false; readonly reason: string };

/**
 * Checks one line of `recommendations.jsonl`:
 * `{"user_id": "u1", "items": [{"artistId": "a1", "score": 0.93}], "model_version": "..."}`.
 * Every line must carry the model version of the set being loaded: a file stitched from two
 * training runs would otherwise serve a mix of both under one version.
 */
export function parseUserLine(line: string, expectedModelVersion: string): ParsedLine {
  if (line.trim() === '') return bad('empty line');
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return bad('not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not a JSON object');
  const { user_id: userId, items, model_version: modelVersion } = value as Record<string, unknown>;
  if (typeof userId !== 'string' || !KEY_PART_PATTERN.test(userId)) {
    return bad(`user_id ${preview(userId)} does not match ${KEY_PART_PATTERN}`);
  }
  if (modelVersion !== expectedModelVersion) {
    return bad(`model_version ${preview(modelVersion)} is not ${JSON.stringify(expectedModelVersion)}`);
  }
  if (!Array.isArray(items)) return bad('items is not an array');
  for (let i = 0; i < items.length; i++) {
    if (!isScoredItem(items[i]))
      return bad(`items[${i}] is not {artistId: non-empty string, score in [-1, 1]}`);
  }
  // Extra properties in the input are dropped when the list is encoded (encodeList keeps only the
  // checked fields); copying every item here would only feed the garbage collector.
  return { ok: true, value: { userId, list: { modelVersion, items: items as ScoredItem[] } } };
}

/** The popularity list (`popularity.json`), whose scores are shares in [0, 1]. */
export function parsePopularity(text: string): RecommendationList {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError('popularity.json is not valid JSON');
  }
  if (typeof value !== 'object' || value === null)
    throw new InvalidInputError('popularity.json is not an object');
  const { model_version: modelVersion, items } = value as Record<string, unknown>;
  if (typeof modelVersion !== 'string' || modelVersion.length === 0) {
    throw new InvalidInputError('popularity.json has no model_version');
  }
  if (!Array.isArray(items) || items.length === 0)
    throw new InvalidInputError('popularity.json has no items');
  items.forEach((item: unknown, i) => {
    if (!isScoredItem(item) || item.score < 0) {
      throw new InvalidInputError(`popularity.json items[${i}] is not {artistId, score in [0, 1]}`);
    }
  });
  return {
    modelVersion,
    items: (items as ScoredItem[]).map(({ artistId, score }) => ({ artistId, score })),
  };
}

/** Input that cannot be loaded at all; retrying the same load fails the same way. */
export class InvalidInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

function bad(reason: string): ParsedLine {
  return { ok: false, reason };
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
