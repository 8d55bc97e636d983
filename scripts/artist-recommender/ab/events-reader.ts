/**
 * Impressions and clicks per variant from a local copy of the raw events: `raw/YYYY/MM/DD/HH/*`
 * files of JSON lines, gzip (as Firehose writes them) or plain. Two line types count: the served
 * list (`recommendation`, written by the recommendation function) and the user's answer to one of
 * its items (`feedback`, from POST /v1/feedback); the schemas below check only the fields read here.
 *
 * - A `recommendation` line with `ts` in [from, to) is one served list: each distinct artist of its
 *   items is one impression of its variant. Lines are kept once per `event_id` (a redelivered
 *   line), items once per (request_id, artist_id).
 * - A `feedback` line with `ts` in [from, to) and clicked = true on an item of a list served in the
 *   window is one click of the list's variant (the served variant, not the echoed one); kept once
 *   per `event_id` and counted once per (request_id, artist_id).
 * - Feedback that matches no item served in the window is counted by reason, never dropped in
 *   silence: `unknown_request`, `unknown_item`, `expired_request` (served more than 7 days before,
 *   as the ETL flags it), `served_outside_window` (the list was served before `from`).
 * - Lines of other types (interaction events) are counted and skipped; a line that is not JSON or
 *   breaks the format is counted as invalid, with its file and line number.
 *
 * Every file is read: a click may be filed in an hour folder far from its list's.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { FeedbackEvent, RecommendationEvent } from '../../../lib/designs/artist-recommender/contracts/events';
import type { VariantCounts } from '../../ab/readout';

/** Feedback this long after its list is `expired_request` (the ETL's rule). */
export const FEEDBACK_EXPIRY_MS = 7 * 86_400_000;
/** Invalid lines quoted in the result; the rest are only counted. */
export const MAX_INVALID_EXAMPLES = 5;

export const UNMATCHED_REASONS = [
  'unknown_request',
  'unknown_item',
  'expired_request',
  'served_outside_window',
] as const;
export type UnmatchedReason = (typeof UNMATCHED_REASONS)[number];

// The lines are read with the design's own contract, as the ETL reads them: what the ETL would
// quarantine is counted invalid here too.
const RecommendationLine = RecommendationEvent;
const FeedbackLine = FeedbackEvent;
type FeedbackLine = z.output<typeof FeedbackLine>;

export interface EventsSummary {
  readonly files: number;
  /** Files outside the `YYYY/MM/DD/HH/` layout, not read. */
  readonly skippedFiles: readonly string[];
  readonly lines: number;
  readonly invalidLines: number;
  /** `file:line: why`, the first few. */
  readonly invalidExamples: readonly string[];
  /** Lines of other event types (impression, click, play, like). */
  readonly otherLines: number;
  readonly servedLists: number;
  readonly duplicateLines: number;
  readonly duplicateItems: number;
  readonly feedback: number;
  readonly clicks: number;
  /** Feedback items (clicked or not) in the window matching no item served in it, by reason. */
  readonly unmatched: Readonly<Record<UnmatchedReason, number>>;
  /** The clicks among them. */
  readonly unmatchedClicks: number;
}

export interface EventsCounts {
  readonly variants: readonly VariantCounts[];
  readonly summary: EventsSummary;
}

interface Served {
  readonly variant: string;
  readonly at: number;
  readonly inWindow: boolean;
  readonly artists: ReadonlySet<string>;
}

const HOUR_FOLDER = /^(?:raw\/)?\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+$/;

/**
 * Reads every events file under `dir` (the folder holding `raw/`, or `raw/` itself) and counts the
 * window [from, to). `variantOrder` puts those variants first, with zero counts when absent.
 */
export async function readEventsCounts(
  dir: string,
  window: { from: Date; to: Date },
  variantOrder: readonly string[] = [],
): Promise<EventsCounts> {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const inWindow = (at: number): boolean => at >= from && at < to;

  const all = await listFiles(dir);
  const files = all.filter((file) => HOUR_FOLDER.test(relative(dir, file).split(sep).join('/')));
  const skippedFiles = all.filter((file) => !files.includes(file)).map((file) => relative(dir, file));

  const served = new Map<string, Served>();
  const seenLines = new Set<string>();
  const feedback: FeedbackLine[] = [];
  const impressions = new Map<string, number>();
  const invalidExamples: string[] = [];
  let lines = 0;
  let invalidLines = 0;
  let otherLines = 0;
  let duplicateLines = 0;
  let duplicateItems = 0;

  const invalid = (where: string, why: string): void => {
    invalidLines++;
    if (invalidExamples.length < MAX_INVALID_EXAMPLES) invalidExamples.push(`${where}: ${why}`);
  };

  for (const file of files) {
    let number = 0;
    for await (const text of readLines(file)) {
      number++;
      if (text.trim() === '') continue;
      lines++;
      const where = `${relative(dir, file)}:${number}`;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        invalid(where, 'not a JSON value');
        continue;
      }
      const type = (json as { event_type?: unknown } | null)?.event_type;
      if (type !== 'recommendation' && type !== 'feedback') {
        otherLines++;
        continue;
      }
      const parsed = (type === 'recommendation' ? RecommendationLine : FeedbackLine).safeParse(json);
      if (!parsed.success) {
        const [first] = parsed.error.issues;
        invalid(where, `${first.path.join('.') || 'the line'} ${first.message}`);
        continue;
      }
      const line = parsed.data;
      const key = `${line.event_type}\n${line.event_id}`;
      if (seenLines.has(key)) {
        duplicateLines++;
        continue;
      }
      seenLines.add(key);
      if (line.event_type === 'feedback') {
        feedback.push(line);
        continue;
      }
      if (served.has(line.request_id)) {
        // Another event_id for a request already served: the first list stands.
        duplicateLines++;
        continue;
      }
      const at = Date.parse(line.ts);
      const artists = new Set(line.items.map((item) => item.artist_id));
      duplicateItems += line.items.length - artists.size;
      served.set(line.request_id, { variant: line.variant, at, inWindow: inWindow(at), artists });
      if (inWindow(at)) impressions.set(line.variant, (impressions.get(line.variant) ?? 0) + artists.size);
    }
  }

  const unmatched = Object.fromEntries(UNMATCHED_REASONS.map((r) => [r, 0])) as Record<
    UnmatchedReason,
    number
  >;
  const clicked = new Set<string>();
  const clicks = new Map<string, number>();
  let feedbackInWindow = 0;
  let unmatchedClicks = 0;
  for (const item of feedback) {
    const at = Date.parse(item.ts);
    if (!inWindow(at)) continue;
    feedbackInWindow++;
    const list = served.get(item.request_id);
    const reason: UnmatchedReason | undefined = !list
      ? 'unknown_request'
      : !list.artists.has(item.artist_id)
        ? 'unknown_item'
        : at - list.at > FEEDBACK_EXPIRY_MS
          ? 'expired_request'
          : !list.inWindow
            ? 'served_outside_window'
            : undefined;
    if (reason) {
      unmatched[reason]++;
      if (item.clicked) unmatchedClicks++;
      continue;
    }
    const key = `${item.request_id}\n${item.artist_id}`;
    if (!item.clicked || clicked.has(key)) continue;
    clicked.add(key);
    clicks.set(list!.variant, (clicks.get(list!.variant) ?? 0) + 1);
  }

  const names = [
    ...variantOrder,
    ...[...new Set([...impressions.keys(), ...clicks.keys()])]
      .filter((v) => !variantOrder.includes(v))
      .sort(),
  ];
  return {
    variants: names.map((variant) => ({
      variant,
      impressions: impressions.get(variant) ?? 0,
      clicks: clicks.get(variant) ?? 0,
    })),
    summary: {
      files: files.length,
      skippedFiles,
      lines,
      invalidLines,
      invalidExamples,
      otherLines,
      servedLists: [...served.values()].filter((s) => s.inWindow).length,
      duplicateLines,
      duplicateItems,
      feedback: feedbackInWindow,
      clicks: clicked.size,
      unmatched,
      unmatchedClicks,
    },
  };
}

/** Every regular file under `dir`, in byte order of its path, so a run reads in a fixed order. */
async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await fs.readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) found.push(path);
    }
  };
  await walk(dir);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The lines of a file, gunzipped when it starts with gzip's magic bytes (whatever its name). */
async function* readLines(file: string): AsyncGenerator<string> {
  const handle = await fs.open(file, 'r');
  const magic = Buffer.alloc(2);
  try {
    await handle.read(magic, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const raw = createReadStream(file);
  const stream = magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => stream.destroy(error));
  yield* createInterface({ input: stream, crlfDelay: Infinity });
}
