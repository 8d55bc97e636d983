import type { Cluster } from 'iovalkey';
import {
  POINTER_KEY,
  decodeList,
  encodeList,
  popularKey,
  userKey,
  type RecommendationList,
} from '../shared/cache-layout';

/** Reads and writes recommendation lists in the cache, following `cache-layout`. */
export interface RecommendationStore {
  /** The version being served, or undefined before the first set is loaded. */
  currentVersion(): Promise<string | undefined>;
  userList(version: string, variant: string, userId: string): Promise<RecommendationList | undefined>;
  popular(version: string): Promise<RecommendationList | undefined>;
  saveUserList(
    version: string,
    variant: string,
    userId: string,
    list: RecommendationList,
    ttlSeconds: number,
  ): Promise<void>;
}

export class CacheRecommendationStore implements RecommendationStore {
  private pointer?: { version: string | undefined; readAt: number };

  /**
   * @param connect resolves to a connected client; called again after a failure, so a container
   *   whose cache was down recovers once it is back.
   * @param pointerTtlMs how long the pointer read is reused: a cache hit then costs one round trip
   *   instead of two. It stays far below the grace period of replaced versions, so the version a
   *   container holds is always still readable.
   */
  constructor(
    private readonly connect: () => Promise<Cluster>,
    private readonly pointerTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async currentVersion(): Promise<string | undefined> {
    const now = this.now();
    if (this.pointer && now - this.pointer.readAt < this.pointerTtlMs) return this.pointer.version;
    const version = (await (await this.connect()).get(POINTER_KEY)) ?? undefined;
    this.pointer = { version, readAt: now };
    return version;
  }

  async userList(version: string, variant: string, userId: string): Promise<RecommendationList | undefined> {
    return decodeList(await (await this.connect()).get(userKey(version, variant, userId)));
  }

  async popular(version: string): Promise<RecommendationList | undefined> {
    return decodeList(await (await this.connect()).get(popularKey(version)));
  }

  async saveUserList(
    version: string,
    variant: string,
    userId: string,
    list: RecommendationList,
    ttlSeconds: number,
  ): Promise<void> {
    // NX: never overwrite a list the batch loader wrote for this version.
    const client = await this.connect();
    await client.set(userKey(version, variant, userId), encodeList(list), 'EX', ttlSeconds, 'NX');
  }
}
