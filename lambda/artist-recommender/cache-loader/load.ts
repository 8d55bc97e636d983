import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'iovalkey';
import {
  ALL_VERSIONS_KEY_PATTERN,
  POINTER_KEY,
  encodeList,
  loadedMarkerKey,
  loadingKey,
  popularKey,
  userKey,
  type RecommendationList,
  versionKeyPattern,
  versionOfKey,
} from '../shared/cache-layout';
import { UserIdSet } from './id-set';
import { readLineBatches } from './lines';
import { openInputs, type InputLocation } from './s3-source';
import { InvalidInputError, parsePopularity, parseUserLine } from './validate';
import { deriveVersion } from './version';
import { PipelinedWriter } from './writer';

export interface LoadSettings {
  /** SETs per pipelined batch. */
  readonly batchSize: number;
  /** Batches awaiting their answers at once. */
  readonly maxInFlight: number;
  /** Above this share of bad lines the load fails and the pointer is not swapped. */
  readonly maxBadLineFraction: number;
  /** Bad lines kept, with their numbers, in the result and the logs. */
  readonly maxReportedBadLines: number;
  /** A longer line is one bad line, dropped as it streams past. */
  readonly maxLineBytes: number;
  /**
   * The design's score threshold (the serving function's SCORE_THRESHOLD): items below it are never
   * served. A user with no item at or above it is not written, so the serving function answers them
   * as it answers an unknown user (the model, then the popularity list) instead of with no items.
   */
  readonly scoreThreshold: number;
  /** How long replaced versions stay readable (cache-layout's REPLACED_VERSION_GRACE_SECONDS). */
  readonly graceSeconds: number;
  /** TTL of the key that marks a version as being loaded; refreshed at a third of it. */
  readonly loadingTtlSeconds: number;
}

export interface BadLine {
  /** 1-based line number in `recommendations.jsonl`. */
  readonly line: number;
  readonly reason: string;
}

export interface UserListsResult {
  /** Users whose list was written. */
  readonly users: number;
  /** Valid lines with no item at or above the score threshold: not written. */
  readonly usersWithoutItems: number;
  readonly badLines: number;
  /** The first `maxReportedBadLines` bad lines. */
  readonly badLineSamples: readonly BadLine[];
  /** SHA-256 over every key and value written, in order. */
  readonly checksum: string;
}

/** What the completion marker of a version holds. */
export interface LoadedMarker {
  readonly modelVersion: string;
  readonly variant: string;
  readonly users: number;
  readonly usersWithoutItems: number;
  readonly badLines: number;
  readonly checksum: string;
}

/**
 * Where the set is (two objects, or two members of the training job's `output.tar.gz`), and what to
 * load it as.
 */
export type LoadRequest = InputLocation & {
  /** The production variant whose lists these are. */
  readonly variant: string;
  /** Replaces the derived version id. */
  readonly version?: string;
  /**
   * Load only into a cache that serves no set yet; otherwise do nothing. The first deploy loads a
   * bootstrap set this way, which must never replace a set a training run has loaded.
   */
  readonly onlyIfEmpty?: boolean;
};

export interface LoadSummary {
  /** Why nothing was loaded: `onlyIfEmpty` found the cache already serving a set. */
  readonly skipped?: string;
  /** The version now served (for a skipped load, the one found). */
  readonly version: string;
  /** What the pointer named before this load; null when nothing was served. */
  readonly previousVersion: string | null;
  readonly users: number;
  readonly usersWithoutItems: number;
  readonly badLines: number;
  readonly badLineSamples: readonly BadLine[];
  /** False for a rerun that found the pointer already naming this version. */
  readonly swapped: boolean;
  /** Keys of other versions (replaced ones, crashed loads) given the grace period TTL. */
  readonly expiredKeys: number;
  readonly seconds: number;
}

export type LoadLogger = Pick<Logger, 'info' | 'warn'>;

export interface LoadDependencies {
  readonly client: Cluster;
  readonly s3: S3Client;
  readonly settings: LoadSettings;
  readonly logger?: LoadLogger;
  readonly now?: () => number;
}

/** Too many lines were rejected to trust the file; nothing was swapped. */
export class TooManyBadLinesError extends Error {
  constructor(
    readonly badLines: number,
    readonly users: number,
    readonly badLineSamples: readonly BadLine[],
  ) {
    super(
      `${badLines} of ${badLines + users} lines are bad; first: ` +
        badLineSamples
          .slice(0, 5)
          .map((bad) => `line ${bad.line}: ${bad.reason}`)
          .join('; '),
    );
    this.name = 'TooManyBadLinesError';
  }
}

const POPULARITY_MAX_BYTES = 16 * 1024 * 1024;

const ALREADY_SERVING = 'cache already holds a recommendation set';

/**
 * Loads one recommendation set: every user list under a new version, then the popularity list and
 * the completion marker, then the pointer swap, then the expiry of the versions no longer served.
 * Nothing a reader can see changes before the swap, so a failure at any step leaves the previous
 * version serving.
 */
export async function loadCache(request: LoadRequest, deps: LoadDependencies): Promise<LoadSummary> {
  const { s3 } = deps;
  const now = deps.now ?? Date.now;
  const started = now();

  if (request.onlyIfEmpty) {
    // Checked before anything is downloaded; the swap checks again, for a load that wins meanwhile.
    const current = await deps.client.get(POINTER_KEY);
    if (current !== null) {
      deps.logger?.info('cache already serves a set; nothing to load', { version: current });
      return skippedSummary(current, 0, (now() - started) / 1000);
    }
  }

  const { popularity, recommendations } = await openInputs(s3, request, POPULARITY_MAX_BYTES);
  try {
    const popular = parsePopularity(popularity.text);
    const version =
      request.version ??
      deriveVersion({
        modelVersion: popular.modelVersion,
        recommendationsEtag: recommendations.etag,
        popularityEtag: popularity.etag,
        variant: request.variant,
      });
    // Validates the variant and version before anything is written.
    userKey(version, request.variant, 'probe');
    return await loadVersion(request, deps, { version, popular, body: recommendations.body, started });
  } finally {
    // A no-op rerun or a failure leaves the download unfinished; a finished one closes as a no-op.
    recommendations.close();
  }
}

async function loadVersion(
  request: LoadRequest,
  deps: LoadDependencies,
  load: {
    readonly version: string;
    readonly popular: RecommendationList;
    readonly body: AsyncIterable<Buffer | string>;
    readonly started: number;
  },
): Promise<LoadSummary> {
  const { client, settings, logger } = deps;
  const now = deps.now ?? Date.now;
  const { version, popular, started } = load;
  const current = await client.get(POINTER_KEY);
  if (current === version) {
    const marker = parseMarker(await client.get(loadedMarkerKey(version)));
    logger?.info('version already served; nothing to load', { version });
    const expiredKeys = await expireReplacedVersions(client, version, settings);
    return {
      version,
      previousVersion: current,
      users: marker?.users ?? 0,
      usersWithoutItems: marker?.usersWithoutItems ?? 0,
      badLines: marker?.badLines ?? 0,
      badLineSamples: [],
      swapped: false,
      expiredKeys,
      seconds: (now() - started) / 1000,
    };
  }

  logger?.info('loading', { version, previousVersion: current, modelVersion: popular.modelVersion });
  const holdLoading = () => client.set(loadingKey(version), '1', 'EX', settings.loadingTtlSeconds);
  await holdLoading();
  const heartbeat = setInterval(
    () => void holdLoading().catch(() => undefined),
    (settings.loadingTtlSeconds * 1000) / 3,
  );
  heartbeat.unref();

  let previousVersion: string | null;
  let result: UserListsResult;
  let swapSent = false;
  try {
    result = await writeUserLists(
      client,
      load.body,
      { version, variant: request.variant, modelVersion: popular.modelVersion },
      settings,
    );
    if (result.badLineSamples.length > 0) {
      logger?.warn('bad lines', { badLines: result.badLines, first: result.badLineSamples });
    }
    const total = result.users + result.usersWithoutItems + result.badLines;
    if (result.badLines > settings.maxBadLineFraction * total) {
      throw new TooManyBadLinesError(result.badLines, total - result.badLines, result.badLineSamples);
    }
    if (result.users === 0) {
      throw new InvalidInputError(
        `recommendations.jsonl holds no list to serve: ${total} lines, ${result.badLines} bad, ` +
          `${result.usersWithoutItems} without an item scoring at least ${settings.scoreThreshold}`,
      );
    }
    await client.set(popularKey(version), encodeList(popular));
    const marker: LoadedMarker = {
      modelVersion: popular.modelVersion,
      variant: request.variant,
      users: result.users,
      usersWithoutItems: result.usersWithoutItems,
      badLines: result.badLines,
      checksum: result.checksum,
    };
    await client.set(loadedMarkerKey(version), JSON.stringify(marker));
    swapSent = true;
    previousVersion = request.onlyIfEmpty
      ? await client.set(POINTER_KEY, version, 'NX', 'GET')
      : await client.set(POINTER_KEY, version, 'GET');
  } catch (error) {
    // A version that failed before its swap is never served: let its keys go now rather than at the
    // next load's sweep. Once the SET was sent it may have landed even if its answer was lost, so
    // the keys are then left to the sweep, which never touches the version being served.
    if (!swapSent) {
      await expireVersionKeys(
        client,
        (candidate) => candidate === version,
        settings.graceSeconds,
        versionKeyPattern(version),
      ).catch(() => undefined);
    }
    throw error;
  } finally {
    clearInterval(heartbeat);
    await client.del(loadingKey(version)).catch(() => undefined);
  }

  if (request.onlyIfEmpty && previousVersion !== null && previousVersion !== version) {
    // Another load swapped in its set while this one was writing: that set stays, and this version,
    // never served, goes.
    logger?.info('cache filled by another load meanwhile; not swapped', {
      version,
      current: previousVersion,
    });
    const expiredKeys = await expireVersionKeys(
      client,
      (candidate) => candidate === version,
      settings.graceSeconds,
      versionKeyPattern(version),
    );
    return skippedSummary(previousVersion, expiredKeys, (now() - started) / 1000);
  }
  const swapped = previousVersion !== version;
  logger?.info('pointer swapped', { version, previousVersion, swapped });
  const expiredKeys = await expireReplacedVersions(client, version, settings);
  return {
    version,
    previousVersion,
    users: result.users,
    usersWithoutItems: result.usersWithoutItems,
    badLines: result.badLines,
    badLineSamples: result.badLineSamples,
    swapped,
    expiredKeys,
    seconds: (now() - started) / 1000,
  };
}

/**
 * The streaming core: reads `recommendations.jsonl` line by line and writes every valid user list
 * under `target.version`. Holds one input chunk, the pipelined batches in flight and the ids of the
 * users seen so far, whatever the size of the file.
 */
export async function writeUserLists(
  client: Cluster,
  source: AsyncIterable<Buffer | string>,
  target: { readonly version: string; readonly variant: string; readonly modelVersion: string },
  settings: Pick<
    LoadSettings,
    'batchSize' | 'maxInFlight' | 'maxReportedBadLines' | 'maxLineBytes' | 'scoreThreshold'
  >,
): Promise<UserListsResult> {
  const writer = new PipelinedWriter(client, settings);
  const checksum = createHash('sha256');
  const badLineSamples: BadLine[] = [];
  let users = 0;
  let usersWithoutItems = 0;
  let badLines = 0;
  // Built once: every key of the load shares it, and it checks the version and variant up front.
  const prefix = userKey(target.version, target.variant, 'x').slice(0, -1);
  // The training job writes one line per user, so a second line for a user id means a stitched or
  // corrupted file, and neither copy is more trustworthy. The first one is kept: it is the only
  // choice that is deterministic while streaming (its SET may already be sent), and counting the
  // repeat as a bad line makes a file with many of them fail the load instead of being served.
  const seen = new UserIdSet();
  const reject = (line: number, reason: string) => {
    badLines++;
    if (badLineSamples.length < settings.maxReportedBadLines) badLineSamples.push({ line, reason });
  };

  for await (const { firstLineNumber, lines } of readLineBatches(source, settings.maxLineBytes)) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line === null) {
        reject(firstLineNumber + i, `line is longer than ${settings.maxLineBytes} bytes`);
        continue;
      }
      const parsed = parseUserLine(line, target.modelVersion);
      if (!parsed.ok) {
        reject(firstLineNumber + i, parsed.reason);
        continue;
      }
      const { userId, list } = parsed.value;
      if (!seen.add(userId)) {
        reject(firstLineNumber + i, `user_id ${JSON.stringify(userId)} already appeared on an earlier line`);
        continue;
      }
      if (!hasItemAtOrAbove(list, settings.scoreThreshold)) {
        usersWithoutItems++;
        continue;
      }
      const key = prefix + userId;
      const value = encodeList(list);
      checksum.update(`${key}\n${value}\n`);
      await writer.set(key, value);
      users++;
    }
  }
  await writer.close();
  return { users, usersWithoutItems, badLines, badLineSamples, checksum: checksum.digest('hex') };
}

function hasItemAtOrAbove(list: RecommendationList, threshold: number): boolean {
  for (const item of list.items) if (item.score >= threshold) return true;
  return false;
}

/**
 * Gives every key of a version other than `current` that has no TTL the grace period: the version
 * just replaced, and the leftovers of loads that crashed. Versions being loaded right now are left
 * alone. Returns how many keys got a TTL.
 */
export async function expireReplacedVersions(
  client: Cluster,
  current: string,
  settings: Pick<LoadSettings, 'graceSeconds'>,
): Promise<number> {
  const loading = new Map<string, Promise<boolean>>();
  const isLoading = (version: string) => {
    let known = loading.get(version);
    if (!known) {
      known = client.exists(loadingKey(version)).then((count) => count > 0);
      loading.set(version, known);
    }
    return known;
  };
  return expireVersionKeys(
    client,
    async (version) => version !== current && !(await isLoading(version)),
    settings.graceSeconds,
  );
}

/**
 * SCANs every master for versioned keys and sets `EXPIRE ... NX` (only where no TTL is set, so a
 * replaced version's clock is never restarted) on those whose version `select` picks.
 */
async function expireVersionKeys(
  client: Cluster,
  select: (version: string) => boolean | Promise<boolean>,
  seconds: number,
  pattern = ALL_VERSIONS_KEY_PATTERN,
): Promise<number> {
  let expired = 0;
  const selected = new Map<string, boolean>();
  for (const node of client.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const chosen: string[] = [];
      for (const key of keys) {
        const version = versionOfKey(key);
        if (version === undefined) continue;
        let pick = selected.get(version);
        if (pick === undefined) {
          pick = await select(version);
          selected.set(version, pick);
        }
        if (pick) chosen.push(key);
      }
      expired += await expireOnNode(node, chosen, seconds);
    } while (cursor !== '0');
  }
  return expired;
}

async function expireOnNode(node: Redis, keys: readonly string[], seconds: number): Promise<number> {
  if (keys.length === 0) return 0;
  const pipeline = node.pipeline();
  for (const key of keys) pipeline.expire(key, seconds, 'NX');
  let expired = 0;
  for (const [error, result] of (await pipeline.exec()) ?? []) {
    if (error) throw error;
    expired += Number(result);
  }
  return expired;
}

function skippedSummary(current: string, expiredKeys: number, seconds: number): LoadSummary {
  return {
    skipped: ALREADY_SERVING,
    version: current,
    previousVersion: current,
    users: 0,
    usersWithoutItems: 0,
    badLines: 0,
    badLineSamples: [],
    swapped: false,
    expiredKeys,
    seconds,
  };
}

function parseMarker(raw: string | null): LoadedMarker | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as LoadedMarker;
  } catch {
    return undefined;
  }
}
