import type { z } from 'zod';
import { withDeadline } from '../shared/deadline';
import { valueProblems } from './flag-document';

/** Where the flags come from: AppConfig in a function (`./appconfig-source.ts`), a stub in tests. */
export interface FlagSource {
  /** The latest document's bytes (or text), undefined when none is deployed yet. */
  fetch(): Promise<Uint8Array | string | undefined>;
  /** Forgets the session after a failed read: the next read starts a new one. */
  reset(): void;
}

/** Why a read did not change the flags: counted as FLAG_METRICS and logged by the function. */
export type FlagReadProblem = 'unavailable' | 'invalid';

/** AppConfig answered a document the design's schema refuses; the message names every bad field. */
export class FlagsInvalidError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`feature flags refused: ${problems.join('; ')}`);
    this.name = 'FlagsInvalidError';
  }
}

export interface FlagReaderOptions<S extends z.ZodType> {
  /** The design's schema of the flag values. */
  readonly schema: S;
  /** The values deployed with the stack, already parsed: served until a read succeeds. */
  readonly defaults: z.output<S>;
  readonly source: FlagSource;
  /** How long flags read (or a failed read) stand before the next read. */
  readonly maxAgeMs: number;
  /** The most one read may take; a request never waits longer for the flags. */
  readonly timeoutMs: number;
  readonly onProblem?: (problem: FlagReadProblem, error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A function's feature flags: the last good values, refreshed at most once per `maxAgeMs` by the
 * request that finds them stale, within a deadline. A read that fails, times out or returns a
 * document the schema refuses leaves the last good values in place (the deployed defaults until one
 * read succeeds) and is not retried before `maxAgeMs` has passed again, so an AppConfig outage
 * costs one request per container and period at most the deadline, never an error.
 */
export class FlagReader<S extends z.ZodType> {
  private values: z.output<S>;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private reading?: Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: FlagReaderOptions<S>) {
    this.values = options.defaults;
    this.now = options.now ?? (() => Date.now());
  }

  /** The flags to serve this request with. Never rejects. */
  async current(): Promise<z.output<S>> {
    if (this.now() - this.attemptedAt >= this.options.maxAgeMs) {
      this.reading ??= this.read().finally(() => {
        this.reading = undefined;
      });
      await this.reading;
    }
    return this.values;
  }

  private async read(): Promise<void> {
    const { source, schema, timeoutMs, onProblem = () => undefined } = this.options;
    this.attemptedAt = this.now();
    let raw: Uint8Array | string | undefined;
    try {
      raw = await withDeadline('AppConfig feature flags', timeoutMs, () => source.fetch());
    } catch (error) {
      // The session token may be spent or half-used: the next read starts a new session.
      source.reset();
      onProblem('unavailable', error);
      return;
    }
    if (raw === undefined || raw.length === 0) {
      onProblem('unavailable', new Error('AppConfig holds no deployed flags yet'));
      return;
    }
    const parsed = parseFlagValues(schema, raw);
    if (parsed.ok) this.values = parsed.values;
    else onProblem('invalid', new FlagsInvalidError(parsed.problems));
  }
}

/** The values in `raw` if they are JSON the schema accepts, else every problem. */
export function parseFlagValues<S extends z.ZodType>(
  schema: S,
  raw: Uint8Array | string,
): { ok: true; values: z.output<S> } | { ok: false; problems: readonly string[] } {
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
  } catch {
    return { ok: false, problems: ['the document is not JSON'] };
  }
  const problems = valueProblems(schema, json);
  return problems.length === 0 ? { ok: true, values: schema.parse(json) } : { ok: false, problems };
}
