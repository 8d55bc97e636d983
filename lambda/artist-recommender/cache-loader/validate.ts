import { identifierProblem } from '../events/schema';
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
  const problem = itemsProblem(items, -1, false);
  if (problem !== undefined) return bad(problem);
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
  const problem = itemsProblem(items, 0, true);
  if (problem !== undefined) throw new InvalidInputError(`popularity.json ${problem}`);
  return {
    modelVersion,
    items: (items as ScoredItem[]).map(({ artistId, score }) => ({ artistId, score })),
  };
}

/**
 * What is wrong with a ranked list, or undefined. Artist ids follow the event contract's identifier
 * rule (they are the events' ids): the line reader decodes bytes that are not UTF-8 as U+FFFD, and
 * two ids that lost different bytes must not be served as one id the model never named. With
 * `unique`, an artist listed twice is refused: which of its two scores and ranks is right cannot be
 * told. User lists skip that check: a set over every list's ids costs about half of the line's
 * JSON.parse, and the training job ranks each artist once per user.
 */
function itemsProblem(items: unknown[], minScore: number, unique: boolean): string | undefined {
  const seen = unique ? new Map<string, number>() : undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!isScoredItem(item) || item.score < minScore) {
      return `items[${i}] is not {artistId: non-empty string, score in [${minScore}, 1]}`;
    }
    const idProblem = identifierProblem(item.artistId);
    if (idProblem !== undefined) return `items[${i}].artistId ${idProblem}`;
    if (seen) {
      const earlier = seen.get(item.artistId);
      if (earlier !== undefined) {
        return `items[${i}].artistId ${JSON.stringify(item.artistId)} repeats items[${earlier}]`;
      }
      seen.set(item.artistId, i);
    }
  }
  return undefined;
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
