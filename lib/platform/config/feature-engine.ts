/**
 * Which engine builds a design's event-side features, from its requirements: the account database
 * (PostgreSQL) while the events the build reads fit one writer, the event lake (Athena over
 * Iceberg; DuckDB locally) past that.
 *
 * The threshold comes from `npm run bench:features` (README, "Scaling past one database"):
 * PostgreSQL's feature SQL runs inside a function capped at 15 minutes, on the account database's
 * writer; at 10M events it took 15 s on an idle 2-core machine and 209 s on a loaded one, a curve
 * that passes 15 minutes near 30M. The lake path has no idle cost and scales out on Athena.
 */

import type { Design } from './design';

/** Events the feature build reads, above which the lake builds them. */
export const LAKE_THRESHOLD_EVENTS = 10_000_000;

/** What `bench:features` checks on the lake path. */
export const FEATURE_ENGINE_TARGETS = { maxGrowthExponent: 1.1, maxSecondsAt10M: 30 } as const;

/**
 * Athena's price for SQL queries, us-east-1: $5 per TB scanned, rounded up per query to at least
 * 10 MB; DDL and failed queries are free. https://aws.amazon.com/athena/pricing/ (2026-12).
 */
export const ATHENA_PRICE = { dollarsPerTB: 5, minimumBytesPerQuery: 10_000_000 } as const;

export type FeatureEngine = 'postgres' | 'lake';

export interface FeatureVolume {
  readonly dailyActiveUsers: number;
  /** Events (impressions, clicks, plays, likes) a daily active user sends per day. */
  readonly eventsPerUserPerDay: number;
  /** Days of events the feature build reads. */
  readonly historyDays: number;
}

/** A design's feature build: its volume per daily active user (`Design.featureBuild`). */
export type FeatureBuild = Omit<FeatureVolume, 'dailyActiveUsers'>;

export interface FeatureEngineChoice {
  readonly engine: FeatureEngine;
  /** Events the build reads at the requirements' volume. */
  readonly eventsRead: number;
  readonly thresholdEvents: number;
}

export function chooseFeatureEngine(
  volume: FeatureVolume,
  threshold = LAKE_THRESHOLD_EVENTS,
): FeatureEngineChoice {
  const eventsRead = volume.dailyActiveUsers * volume.eventsPerUserPerDay * volume.historyDays;
  if (!Number.isFinite(eventsRead) || eventsRead < 0)
    throw new Error('the feature volume must be finite and not negative');
  return { engine: eventsRead > threshold ? 'lake' : 'postgres', eventsRead, thresholdEvents: threshold };
}

/** The engine of a design's feature build at its requirements' volume; undefined when it has none. */
export function featureEngineOf(
  design: Pick<Design, 'requirements' | 'featureBuild'>,
): FeatureEngineChoice | undefined {
  if (!design.featureBuild) return undefined;
  return chooseFeatureEngine({
    dailyActiveUsers: design.requirements.dailyActiveUsers,
    ...design.featureBuild,
  });
}
