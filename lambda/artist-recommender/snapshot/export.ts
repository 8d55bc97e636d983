import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import {
  USER_FEATURE_NAMES,
  type UserFeatures,
} from '../../../lib/designs/artist-recommender/contracts/features';
import { unmatchedFeedbackCounts, type UnmatchedFeedbackCounts } from '../shared/unmatched-feedback';

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
  /**
   * Feedback items (recorded before validationEnd, else all) that label no served item, by
   * reason; they are in neither feedback.csv.
   */
  unmatchedFeedback: UnmatchedFeedbackCounts;
}

/** The training-channel layout the model code reads. */
export const SNAPSHOT_FILES = {
  train: 'train/interactions.csv',
  users: 'train/users.csv',
  trainFeedback: 'train/feedback.csv',
  validation: 'validation/interactions.csv',
  validationFeedback: 'validation/feedback.csv',
} as const;

/**
 * The user features for the Feature Store, one JSON object per line with the fields of the feature
 * contract (`UserFeatures`), in its order. Not a training channel: it sits beside them so the ingest
 * step reads the same snapshot.
 */
export const FEATURES_FILE = 'features/user_features.jsonl';

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
  // Click labels of served items, split by when the list was served; the labels count feedback
  // and clicks recorded before the validation end (all when there is none), as the counts do.
  const before = options.validationEnd ? literal(options.validationEnd) : 'NULL';
  const labels = (where: string) =>
    `SELECT user_id, artist_id AS item_id, request_id, position, score AS shown_score, variant, model_version,
            clicked, to_char(ts AT TIME ZONE 'UTC', ${ISO}) AS ts
       FROM feedback_labels(${before}) l WHERE ${where}
      ORDER BY request_id COLLATE "C", position`;
  return {
    train: asCsv(train),
    validation: asCsv(validation),
    trainFeedback: labels(`l.ts < ${cutoff}`),
    validationFeedback: labels(`l.ts >= ${cutoff}`),
    unmatched: `SELECT reason, count(*) AS n FROM unmatched_feedback(${before}) GROUP BY reason`,
    users,
    population,
    features: features(options),
  };
}

/**
 * One JSON object per user of feature_user_profile (already k-anonymous: generalise_locations is its
 * only source, and it holds no birth date). Top lists are comma-joined in rank order (the
 * recency-weighted order of sql/features); interaction_count counts clicks, plays and likes, the
 * events that express a preference. event_time is the as-of instant of the feature build that
 * wrote the tables (the snapshot's cutoff when none is recorded): the values describe the user at
 * that instant, a rerun writes the same records, and the Feature Store keeps the latest build online.
 */
function features(options: SnapshotOptions): string {
  const asOf = `coalesce((SELECT as_of FROM feature_runs ORDER BY run_id DESC LIMIT 1), ${literal(options.cutoff)})`;
  // One SQL expression per feature of the contract: a feature added there fails to compile here
  // until it has one.
  const values: { readonly [K in keyof UserFeatures]: string } = {
    user_id: 'p.user_id',
    age_group: 'p.age_group',
    location: 'p.location',
    top_artists: "coalesce(a.ids, '')",
    top_songs: "coalesce(s.ids, '')",
    interaction_count: 'coalesce(i.clicks + i.plays + i.likes, 0)',
    event_time: `to_char(${asOf} AT TIME ZONE 'UTC', ${ISO})`,
  };
  const fields = USER_FEATURE_NAMES.map((name) => `'${name}', ${values[name]}`).join(',\n            ');
  return `SELECT json_build_object(
            ${fields})::text
       FROM feature_user_profile p
       LEFT JOIN (SELECT user_id, string_agg(artist_id, ',' ORDER BY rank) AS ids
                    FROM feature_user_top_artists GROUP BY user_id) a ON a.user_id = p.user_id
       LEFT JOIN (SELECT user_id, string_agg(song_id, ',' ORDER BY rank) AS ids
                    FROM feature_user_top_songs GROUP BY user_id) s ON s.user_id = p.user_id
       LEFT JOIN feature_user_interactions i ON i.user_id = p.user_id
      ORDER BY p.user_id COLLATE "C"`;
}

/**
 * COPY formats for the output files. JSON lines go out as CSV with a quote character and delimiter
 * that never occur in json_build_object's output (it escapes control characters), so no value is
 * quoted or escaped: COPY's text format would double every backslash of the JSON.
 */
const CSV_WITH_HEADER = 'FORMAT csv, HEADER true';
const JSON_LINES = `FORMAT csv, HEADER false, QUOTE E'\\x01', DELIMITER E'\\x02'`;

export async function copyToFile(
  client: ClientBase,
  query: string,
  path: string,
  format = CSV_WITH_HEADER,
): Promise<FileEntry> {
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
    client.query(copyTo(`COPY (${query}) TO STDOUT WITH (${format})`)),
    tap,
    createWriteStream(path),
  );
  // Ids are normalised (no quotes or newlines), so every record is one line; the header is one more.
  return { rows: format === CSV_WITH_HEADER ? newlines - 1 : newlines, bytes, sha256: hash.digest('hex') };
}

/**
 * Writes a training snapshot under `outDir`: train/interactions.csv (events before the cutoff),
 * validation/interactions.csv (events at or after it, minus user-artist pairs already in train),
 * train/users.csv (k-anonymous age group and location, no birth date), train/feedback.csv and
 * validation/feedback.csv (one row per item served before / at or after the cutoff:
 * user_id,item_id,request_id,position,shown_score,variant,model_version,clicked,ts with clicked 0
 * or 1 and ts the served time, ordered by request_id, position; a header only when nothing was
 * served), features/user_features.jsonl (the feature tables as Feature Store records; see
 * FEATURES_FILE) and manifest.json, which counts the unmatched feedback by reason.
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
    // Scores go out as the shortest text that reads back to the same double, whatever the
    // server's default: the offline twin (channels.py) writes them the same way.
    await client.query('SET LOCAL extra_float_digits = 1');
    files[SNAPSHOT_FILES.train] = await copyToFile(client, q.train, join(outDir, SNAPSHOT_FILES.train));
    files[SNAPSHOT_FILES.validation] = await copyToFile(
      client,
      q.validation,
      join(outDir, SNAPSHOT_FILES.validation),
    );
    files[SNAPSHOT_FILES.users] = await copyToFile(client, q.users, join(outDir, SNAPSHOT_FILES.users));
    for (const file of [SNAPSHOT_FILES.trainFeedback, SNAPSHOT_FILES.validationFeedback]) {
      const query = file === SNAPSHOT_FILES.trainFeedback ? q.trainFeedback : q.validationFeedback;
      files[file] = await copyToFile(client, query, join(outDir, file));
    }
    const unmatchedFeedback = unmatchedFeedbackCounts((await client.query(q.unmatched)).rows);
    files[FEATURES_FILE] = await copyToFile(client, q.features, join(outDir, FEATURES_FILE), JSON_LINES);
    const known = await client.query(`SELECT count(*) AS n FROM accounts WHERE user_id IN (${q.population})`);
    await client.query('COMMIT');
    const manifest: SnapshotManifest = {
      cutoff: options.cutoff.toISOString(),
      validationEnd: options.validationEnd ? options.validationEnd.toISOString() : null,
      k: options.k,
      files,
      suppressedUsers: Number(known.rows[0].n) - files[SNAPSHOT_FILES.users].rows,
      unmatchedFeedback,
    };
    writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
