/**
 * The recommendation cache layout: the one contract between the writers (the batch cache loader, the
 * serving function caching model answers) and the readers (the serving function).
 *
 * - `recs:current` holds the id of the recommendation set being served (the version pointer).
 * - `recs:v:{version}:u:{variant}:{userId}` holds one user's list for one A/B variant of that set.
 * - `recs:v:{version}:popular` holds the set's popularity list, the fallback for everyone.
 * - `recs:v:{version}:loaded` is written by the batch loader after every other key of the version,
 *   before the swap: its presence says the version is complete (it holds counts and a checksum).
 * - `recs:v:{version}:loading` (with a TTL) says a loader is writing the version right now, so another
 *   loader's clean-up does not expire keys that are about to be served.
 *
 * A loader writes every key of a new version first and swaps the pointer last, with one SET: a
 * reader resolves the pointer once per request and reads one key under that version, so it never
 * mixes two sets. Old versions are not deleted at the swap; they expire after a grace period that
 * outlives every reader's cached pointer.
 *
 * Keys carry no hash tag on purpose: a version's users spread over every slot of the cluster.
 */

/** Key of the version pointer. */
export const POINTER_KEY = 'recs:current';

/** How long the keys of a replaced version stay readable after the swap, in seconds. */
export const REPLACED_VERSION_GRACE_SECONDS = 15 * 60;

/** Versions, variants and user ids are restricted to characters that cannot forge another key. */
export const KEY_PART_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

export function userKey(version: string, variant: string, userId: string): string {
  return `recs:v:${keyPart('version', version)}:u:${keyPart('variant', variant)}:${keyPart('userId', userId)}`;
}

export function popularKey(version: string): string {
  return `recs:v:${keyPart('version', version)}:popular`;
}

/** Key of a version's completion marker, written last before the swap. */
export function loadedMarkerKey(version: string): string {
  return `recs:v:${keyPart('version', version)}:loaded`;
}

/** Key that a loader holds, with a short TTL, while it writes a version. */
export function loadingKey(version: string): string {
  return `recs:v:${keyPart('version', version)}:loading`;
}

/** A SCAN MATCH pattern for the keys of every version. */
export const ALL_VERSIONS_KEY_PATTERN = 'recs:v:*';

/**
 * The version a key belongs to, or undefined for a key outside the versioned layout (the pointer,
 * anything foreign). Versions cannot contain `:`, so the third part is the whole version.
 */
export function versionOfKey(key: string): string | undefined {
  if (!key.startsWith('recs:v:')) return undefined;
  const end = key.indexOf(':', 7);
  if (end < 0) return undefined;
  const version = key.slice(7, end);
  return KEY_PART_PATTERN.test(version) ? version : undefined;
}

/** A SCAN MATCH pattern for every key of one version (used to expire a replaced version). */
export function versionKeyPattern(version: string): string {
  return `recs:v:${keyPart('version', version)}:*`;
}

export interface ScoredItem {
  readonly artistId: string;
  /** Cosine similarity between the user and the artist, in [-1, 1]. */
  readonly score: number;
}

/** What one key holds: a ranked list and the model version that produced it. */
export interface RecommendationList {
  readonly modelVersion: string;
  readonly items: readonly ScoredItem[];
}

/** The only properties a stored list keeps, at every level: anything else in the input is dropped. */
const STORED_PROPERTIES = ['modelVersion', 'items', 'artistId', 'score'];

export function encodeList(list: RecommendationList): string {
  return JSON.stringify({ modelVersion: list.modelVersion, items: list.items }, STORED_PROPERTIES);
}

/**
 * Parses a stored list; returns undefined for anything that is not a well-formed list, so a
 * corrupt key reads as a miss instead of failing the request.
 */
export function decodeList(raw: string | null | undefined): RecommendationList | undefined {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { modelVersion, items } = value as { modelVersion?: unknown; items?: unknown };
  if (typeof modelVersion !== 'string' || !Array.isArray(items)) return undefined;
  for (const item of items) {
    if (!isScoredItem(item)) return undefined;
  }
  return { modelVersion, items: items as ScoredItem[] };
}

export function isScoredItem(item: unknown): item is ScoredItem {
  if (typeof item !== 'object' || item === null) return false;
  const { artistId, score } = item as { artistId?: unknown; score?: unknown };
  return (
    typeof artistId === 'string' &&
    artistId.length > 0 &&
    typeof score === 'number' &&
    Number.isFinite(score) &&
    score >= -1 &&
    score <= 1
  );
}

function keyPart(name: string, value: string): string {
  if (!KEY_PART_PATTERN.test(value)) {
    throw new Error(`${name} ${JSON.stringify(value)} does not match ${KEY_PART_PATTERN}`);
  }
  return value;
}
