import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { unmatchedFeedbackCounts, type UnmatchedFeedbackCounts } from '../shared/unmatched-feedback';

export interface FeatureParameters {
  /** Features use events strictly before this instant; ages are computed at its UTC date. */
  asOf: Date;
  /** Minimum users per exported (age group, location) group. */
  k: number;
  /** Half-life of the recency weighting of favourite artists and songs, in days. */
  halfLifeDays: number;
}

export interface FeatureRun {
  asOf: string;
  /** Rows in each feature table after the run. */
  rows: Record<string, number>;
  /**
   * Feedback that labels no served item (feature_unmatched_feedback), by reason: unknown_request,
   * unknown_item, expired_request, each present.
   */
  unmatchedFeedback: UnmatchedFeedbackCounts;
  /** Wall time of each SQL file, in ms. */
  timingsMs: Record<string, number>;
}

export const FEATURE_TABLES = [
  'feature_user_profile',
  'feature_user_top_artists',
  'feature_user_top_songs',
  'feature_feedback_labels',
  'feature_unmatched_feedback',
  'feature_user_interactions',
] as const;

/**
 * The feature files over the account table alone. Where the design builds its event features on
 * the lake, only these run here; the lake's SQL (sql/artist-recommender/lake) builds the rest.
 */
export const ACCOUNT_FEATURE_FILES = ['010_user_profile.sql'] as const;

export function checkParameters(p: FeatureParameters): void {
  if (!(p.asOf instanceof Date) || Number.isNaN(p.asOf.getTime()))
    throw new Error('asOf must be a valid date');
  if (!Number.isInteger(p.k) || p.k < 1) throw new Error('k must be a positive integer');
  if (!(p.halfLifeDays > 0) || !Number.isFinite(p.halfLifeDays))
    throw new Error('halfLifeDays must be positive');
}

/**
 * Rebuilds every feature table (or the files `only` names) by running `sql/features/*.sql` in name
 * order, in one transaction:
 * readers see the previous features until the new ones are complete. Parameters reach the SQL as
 * transaction-local settings (`features.k`, ...), so the files also run as they are under psql.
 */
export async function buildFeatures(
  client: ClientBase,
  dir: string,
  params: FeatureParameters,
  only?: readonly string[],
): Promise<FeatureRun> {
  checkParameters(params);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql') && (only === undefined || only.includes(f)))
    .sort();
  const timingsMs: Record<string, number> = {};
  await client.query('BEGIN');
  try {
    await client.query(
      `SELECT set_config('features.as_of', $1, true), set_config('features.k', $2, true),
              set_config('features.half_life_days', $3, true)`,
      [params.asOf.toISOString(), String(params.k), String(params.halfLifeDays)],
    );
    for (const file of files) {
      const began = performance.now();
      await client.query(readFileSync(join(dir, file), 'utf8'));
      timingsMs[file] = Math.round(performance.now() - began);
    }
    await client.query('INSERT INTO feature_runs (as_of, k, half_life_days) VALUES ($1, $2, $3)', [
      params.asOf,
      params.k,
      params.halfLifeDays,
    ]);
    const rows: Record<string, number> = {};
    for (const table of FEATURE_TABLES) {
      rows[table] = Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    }
    const unmatchedFeedback = unmatchedFeedbackCounts(
      (await client.query('SELECT reason, count(*) AS n FROM feature_unmatched_feedback GROUP BY reason'))
        .rows,
    );
    await client.query('COMMIT');
    return { asOf: params.asOf.toISOString(), rows, unmatchedFeedback, timingsMs };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
