/**
 * Writes a folder of raw events as Firehose lays them out (`raw/YYYY/MM/DD/HH/`, gzip JSON lines),
 * in the formats of the served lists and the feedback, with a planted CTR per variant. It returns
 * the true counts of the window, so a test can check a reader against them exactly.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { seededRandom } from '../../../../../scripts/support/seeded-random';

export interface FixtureSpec {
  /** Planted CTR per variant; each request picks a variant with equal chance. */
  readonly ctr: Readonly<Record<string, number>>;
  readonly requests: number;
  readonly itemsPerList?: number;
  readonly seed?: number;
  /** First served time; requests are a minute apart. */
  readonly start: Date;
}

export interface FixtureTruth {
  readonly impressions: Record<string, number>;
  readonly clicks: Record<string, number>;
  /** The end of the generated traffic: a window [start, end) holds all of it. */
  readonly end: Date;
}

const MINUTE = 60_000;

export function feedbackEventId(requestId: string, artistId: string, clicked: boolean): string {
  return `fb-${createHash('sha256').update(`${requestId}\n${artistId}\n${clicked}`).digest('hex')}`;
}

export function recommendationLine(
  requestId: string,
  variant: string,
  artists: readonly string[],
  at: Date,
): Record<string, unknown> {
  return {
    event_type: 'recommendation',
    event_id: requestId,
    request_id: requestId,
    user_id: `u-${requestId}`,
    variant,
    model_version: 'm-1',
    source: 'cache',
    items: artists.map((artist_id, i) => ({ artist_id, position: i + 1, score: 0.9 - i * 0.01 })),
    ts: at.toISOString(),
  };
}

export function feedbackLine(
  requestId: string,
  artistId: string,
  clicked: boolean,
  at: Date,
  variant: string | null = null,
): Record<string, unknown> {
  return {
    event_type: 'feedback',
    event_id: feedbackEventId(requestId, artistId, clicked),
    request_id: requestId,
    user_id: `u-${requestId}`,
    artist_id: artistId,
    clicked,
    variant,
    ts: at.toISOString(),
  };
}

/** `raw/YYYY/MM/DD/HH/` of a time, as Firehose names its prefix (UTC). */
export function hourFolder(root: string, at: Date): string {
  const iso = at.toISOString();
  return join(root, 'raw', iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13));
}

/** Appends the lines to one file per hour folder of the line's time: gzip, or plain with `plain`. */
export function writeLines(
  root: string,
  name: string,
  lines: readonly Record<string, unknown>[],
  plain = false,
): void {
  const byFolder = new Map<string, string[]>();
  for (const line of lines) {
    const folder = hourFolder(root, new Date(String(line.ts)));
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), JSON.stringify(line)]);
  }
  for (const [folder, texts] of byFolder) {
    mkdirSync(folder, { recursive: true });
    const body = `${texts.join('\n')}\n`;
    writeFileSync(join(folder, plain ? `${name}.jsonl` : `${name}.jsonl.gz`), plain ? body : gzipSync(body));
  }
}

/**
 * Served lists of `itemsPerList` distinct artists, a minute apart, each item clicked with its
 * variant's planted CTR; a click is a feedback line 30 s after the list, and about one in five
 * items not clicked gets a clicked=false feedback line.
 */
export function writeEventsFixture(root: string, spec: FixtureSpec): FixtureTruth {
  const random = seededRandom(spec.seed ?? 1);
  const variants = Object.keys(spec.ctr);
  const items = spec.itemsPerList ?? 10;
  const impressions = Object.fromEntries(variants.map((v) => [v, 0]));
  const clicks = Object.fromEntries(variants.map((v) => [v, 0]));
  const served: Record<string, unknown>[] = [];
  const feedback: Record<string, unknown>[] = [];
  for (let r = 0; r < spec.requests; r++) {
    const variant = variants[Math.floor(random() * variants.length)];
    const requestId = `req-${spec.seed ?? 1}-${r}`;
    const at = new Date(spec.start.getTime() + r * MINUTE);
    const artists = Array.from({ length: items }, (_, i) => `a${(r * 7 + i) % 500}-${i}`);
    served.push(recommendationLine(requestId, variant, artists, at));
    impressions[variant] += items;
    for (const artist of artists) {
      const clicked = random() < spec.ctr[variant];
      if (clicked) clicks[variant]++;
      if (clicked || random() < 0.2) {
        feedback.push(feedbackLine(requestId, artist, clicked, new Date(at.getTime() + 30_000), variant));
      }
    }
  }
  writeLines(root, 'served-0001', served);
  writeLines(root, 'feedback-0001', feedback);
  return { impressions, clicks, end: new Date(spec.start.getTime() + spec.requests * MINUTE) };
}
