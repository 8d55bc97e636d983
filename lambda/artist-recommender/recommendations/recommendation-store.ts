import { ReplyError, type Cluster } from 'iovalkey';
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
    return this.readList(userKey(version, variant, userId));
  }

  async popular(version: string): Promise<RecommendationList | undefined> {
    return this.readList(popularKey(version));
  }

  /**
   * A key that holds another type (a hash, a set) is as corrupt as one holding malformed JSON: it
   * reads as a miss, so the request falls back, instead of as an unreachable cache, which would
   * skip the popularity list too.
   */
  private async readList(key: string): Promise<RecommendationList | undefined> {
    const client = await this.connect();
    try {
      return decodeList(await client.get(key));
    } catch (error) {
      if (error instanceof ReplyError && (error as Error).message.startsWith('WRONGTYPE')) return undefined;
      throw error;
    }
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
