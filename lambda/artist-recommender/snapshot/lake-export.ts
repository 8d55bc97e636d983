/**
 * The training snapshot of the distributed path: the same files and manifest as `./export.ts`,
 * written from the lake's outputs (gzip JSON lines, as Athena's UNLOAD or the local engine writes
 * them) and, for the k-anonymous users.csv, from the account database, which keeps every birth
 * date: the lake hands it the snapshot's user ids, never the reverse.
 *
 * Rows are written in the order the outputs list them (UNLOAD writes parts in no global order);
 * the PostgreSQL path sorts them. The model reads both the same way.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  USER_FEATURE_NAMES,
  type UserFeatures,
} from '../../../lib/designs/artist-recommender/contracts/features';
import type { LakeOutput } from '../lake/queries';
import { unmatchedFeedbackCounts } from '../shared/unmatched-feedback';
import { copyToFile, FEATURES_FILE, SNAPSHOT_FILES, type FileEntry, type SnapshotManifest } from './export';

/** The JSON lines of one lake output, whatever holds its parts (S3 in AWS, a folder locally). */
export type LakeOutputLines = (output: LakeOutput) => AsyncIterable<string>;

export interface LakeSnapshotOptions {
  /** Train on events strictly before this instant; validate on events at or after it. */
  readonly cutoff: Date;
  /** The as-of of the lake's outputs: the end of the validation window and the features' event_time. */
  readonly asOf: Date;
  readonly k: number;
}

/** A file written line by line, counted and hashed as `./export.ts` records its files. */
class CountedFile {
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private rows = 0;

  constructor(path: string, header?: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.out = createWriteStream(path);
    if (header !== undefined) this.push(header + '\n');
  }

  private push(text: string): void {
    const chunk = Buffer.from(text);
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.out.write(chunk);
  }

  line(text: string): void {
    this.rows++;
    this.push(text + '\n');
  }

  async close(): Promise<FileEntry> {
    await new Promise<void>((resolve, reject) =>
      this.out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    return { rows: this.rows, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

const iso = (ms: unknown): string => new Date(Number(ms)).toISOString();
const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

async function* rows(lines: AsyncIterable<string>): AsyncGenerator<Record<string, unknown>> {
  for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as Record<string, unknown>;
}

/**
 * Writes the snapshot under `outDir` (the layout of `./export.ts`): interactions and feedback from
 * the lake; users.csv from the account database over the snapshot's users; user_features.jsonl
 * from the lake's join of the exported profiles. Returns the manifest, also written as manifest.json.
 */
export async function exportLakeSnapshot(
  client: ClientBase,
  lines: LakeOutputLines,
  outDir: string,
  options: LakeSnapshotOptions,
): Promise<SnapshotManifest> {
  const { cutoff, asOf, k } = options;
  if (!Number.isInteger(k) || k < 1) throw new Error('k must be a positive integer');
  if (!(cutoff < asOf)) throw new Error('the cutoff must come before the as-of instant');
  const files: Record<string, FileEntry> = {};
  const population = new Set<string>();

  const interactions = async (output: LakeOutput, file: string) => {
    const out = new CountedFile(join(outDir, file), 'user_id,item_id,weight,ts');
    for await (const r of rows(lines(output))) {
      population.add(String(r.user_id));
      out.line(`${text(r.user_id)},${text(r.item_id)},${text(r.weight)},${iso(r.ts_ms)}`);
    }
    files[file] = await out.close();
  };
  await interactions('snapshot/train_interactions', SNAPSHOT_FILES.train);
  await interactions('snapshot/validation_interactions', SNAPSHOT_FILES.validation);

  const header = 'user_id,item_id,request_id,position,shown_score,variant,model_version,clicked,ts';
  const train = new CountedFile(join(outDir, SNAPSHOT_FILES.trainFeedback), header);
  const validation = new CountedFile(join(outDir, SNAPSHOT_FILES.validationFeedback), header);
  for await (const r of rows(lines('features/feedback_labels'))) {
    const line = [
      r.user_id,
      r.artist_id,
      r.request_id,
      r.position,
      r.score,
      r.variant,
      r.model_version,
      r.clicked,
    ]
      .map(text)
      .join(',');
    (Number(r.ts_ms) < cutoff.getTime() ? train : validation).line(`${line},${iso(r.ts_ms)}`);
  }
  files[SNAPSHOT_FILES.trainFeedback] = await train.close();
  files[SNAPSHOT_FILES.validationFeedback] = await validation.close();

  const reasons = new Map<string, number>();
  for await (const r of rows(lines('features/unmatched_feedback'))) {
    reasons.set(String(r.reason), (reasons.get(String(r.reason)) ?? 0) + 1);
  }
  const unmatchedFeedback = unmatchedFeedbackCounts([...reasons].map(([reason, n]) => ({ reason, n })));

  const features = new CountedFile(join(outDir, FEATURES_FILE));
  for await (const r of rows(lines('features/user_features'))) {
    const values: UserFeatures = {
      user_id: text(r.user_id),
      age_group: text(r.age_group),
      location: text(r.location),
      top_artists: text(r.top_artists),
      top_songs: text(r.top_songs),
      interaction_count: Number(r.interaction_count),
      event_time: asOf.toISOString(),
    };
    features.line(JSON.stringify(Object.fromEntries(USER_FEATURE_NAMES.map((name) => [name, values[name]]))));
  }
  files[FEATURES_FILE] = await features.close();

  // users.csv: the snapshot's users go into the database, the k-anonymous groups come out.
  await client.query('BEGIN');
  let known: number;
  try {
    await client.query('CREATE TEMP TABLE snapshot_population (user_id text PRIMARY KEY) ON COMMIT DROP');
    await pipeline(
      Readable.from(
        (function* () {
          for (const id of population) yield `${id.replace(/[\\\t\n\r]/g, ' ')}\n`;
        })(),
      ),
      client.query(copyFrom('COPY snapshot_population (user_id) FROM STDIN')),
    );
    const day = `('${cutoff.toISOString()}'::timestamptz AT TIME ZONE 'UTC')::date`;
    files[SNAPSHOT_FILES.users] = await copyToFile(
      client,
      `SELECT user_id, age_group, location
         FROM generalise_locations(${Number(k)}, ${day}, ARRAY(SELECT user_id FROM snapshot_population))
        ORDER BY user_id COLLATE "C"`,
      join(outDir, SNAPSHOT_FILES.users),
    );
    known = Number(
      (await client.query('SELECT count(*) AS n FROM accounts a JOIN snapshot_population p USING (user_id)'))
        .rows[0].n,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }

  const manifest: SnapshotManifest = {
    cutoff: cutoff.toISOString(),
    validationEnd: asOf.toISOString(),
    k,
    files,
    suppressedUsers: known - files[SNAPSHOT_FILES.users].rows,
    unmatchedFeedback,
  };
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
