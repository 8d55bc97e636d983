import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

export interface SnapshotOptions {
  /** Train on events strictly before this instant; validate on events at or after it. */
  cutoff: Date;
  /** Optional end (exclusive) of the validation window; default: every event after the cutoff. */
  validationEnd?: Date;
  /** Minimum users per (age_group, location) group in users.csv. */
  k: number;
}

export interface FileEntry {
  rows: number;
  bytes: number;
  sha256: string;
}

export interface SnapshotManifest {
  cutoff: string;
  validationEnd: string | null;
  k: number;
  files: Record<string, FileEntry>;
  /** Users left out of users.csv because even the most general group was below k. */
  suppressedUsers: number;
}

/** The training-channel layout the model code reads. */
export const SNAPSHOT_FILES = {
  train: 'train/interactions.csv',
  users: 'train/users.csv',
  validation: 'validation/interactions.csv',
} as const;

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** A timestamp literal built from a validated Date: COPY cannot take bind parameters. */
function literal(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime()))
    throw new Error('snapshot dates must be valid');
  return `'${date.toISOString()}'::timestamptz`;
}

/**
 * Positive events credited to artists: an artist event credits its item, a song event the song's
 * artists. Rows: user_id, item_id (the artist), weight, ts.
 */
function credited(where: string): string {
  return `SELECT e.user_id, e.item_id AS item_id, event_weight(e.event_type) AS weight, e.ts
            FROM events e WHERE e.item_type = 'artist' AND e.event_type <> 'impression' AND ${where}
          UNION ALL
          SELECT e.user_id, a.artist_id, event_weight(e.event_type), e.ts
            FROM events e CROSS JOIN LATERAL unnest(e.artist_ids) AS a(artist_id)
           WHERE e.item_type = 'song' AND e.event_type <> 'impression' AND ${where}`;
}

function queries(options: SnapshotOptions) {
  const cutoff = literal(options.cutoff);
  const trainWhere = `e.ts < ${cutoff}`;
  const validationWhere = options.validationEnd
    ? `e.ts >= ${cutoff} AND e.ts < ${literal(options.validationEnd)}`
    : `e.ts >= ${cutoff}`;
  const pairs = (where: string) =>
    `SELECT user_id, item_id, sum(weight) AS weight, max(ts) AS ts FROM (${credited(where)}) c GROUP BY user_id, item_id`;
  const train = pairs(trainWhere);
  // Pairs already seen in training are left out: the validation set measures new discoveries and
  // cannot leak a training pair.
  const validation = `SELECT v.* FROM (${pairs(validationWhere)}) v
     WHERE NOT EXISTS (SELECT 1 FROM (${credited(trainWhere)}) t
                        WHERE t.user_id = v.user_id AND t.item_id = v.item_id)`;
  const asCsv = (q: string) =>
    `SELECT user_id, item_id, weight, to_char(ts AT TIME ZONE 'UTC', ${ISO}) AS ts FROM (${q}) x
      ORDER BY user_id COLLATE "C", item_id COLLATE "C"`;
  const population = `SELECT DISTINCT user_id FROM (${credited(trainWhere)}) a
                      UNION SELECT DISTINCT user_id FROM (${validation}) b`;
  const users = `SELECT user_id, age_group, location
      FROM generalise_locations(${Number(options.k)}, (${cutoff} AT TIME ZONE 'UTC')::date, ARRAY(${population}))
     ORDER BY user_id COLLATE "C"`;
  return { train: asCsv(train), validation: asCsv(validation), users, population };
}

async function copyToFile(client: ClientBase, query: string, path: string): Promise<FileEntry> {
  mkdirSync(dirname(path), { recursive: true });
  const hash = createHash('sha256');
  let bytes = 0;
  let newlines = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
      callback(null, chunk);
    },
  });
  await pipeline(
    client.query(copyTo(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER true)`)),
    tap,
    createWriteStream(path),
  );
  // Ids are normalised (no quotes or newlines), so every record is one line; the header is one more.
  return { rows: newlines - 1, bytes, sha256: hash.digest('hex') };
}

/**
 * Writes a training snapshot under `outDir`: train/interactions.csv (events before the cutoff),
 * validation/interactions.csv (events at or after it, minus user-artist pairs already in train),
 * train/users.csv (k-anonymous age group and location, no birth date) and manifest.json.
 * Everything is read in one REPEATABLE READ transaction and ordered by id, so the same data and
 * cutoff give byte-identical files.
 */
export async function exportSnapshot(
  client: ClientBase,
  outDir: string,
  options: SnapshotOptions,
): Promise<SnapshotManifest> {
  if (!Number.isInteger(options.k) || options.k < 1) throw new Error('k must be a positive integer');
  const q = queries(options);
  const files: Record<string, FileEntry> = {};
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    files[SNAPSHOT_FILES.train] = await copyToFile(client, q.train, join(outDir, SNAPSHOT_FILES.train));
    files[SNAPSHOT_FILES.validation] = await copyToFile(
      client,
      q.validation,
      join(outDir, SNAPSHOT_FILES.validation),
    );
    files[SNAPSHOT_FILES.users] = await copyToFile(client, q.users, join(outDir, SNAPSHOT_FILES.users));
    const known = await client.query(`SELECT count(*) AS n FROM accounts WHERE user_id IN (${q.population})`);
    await client.query('COMMIT');
    const manifest: SnapshotManifest = {
      cutoff: options.cutoff.toISOString(),
      validationEnd: options.validationEnd ? options.validationEnd.toISOString() : null,
      k: options.k,
      files,
      suppressedUsers: Number(known.rows[0].n) - files[SNAPSHOT_FILES.users].rows,
    };
    writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
