/**
 * Exports a training snapshot (an ETL step after the feature build).
 *
 * Event: `{ cutoff, validationEnd?, k?, lakeOutputs? }`: ISO-8601 timestamps with a zone, a positive
 * integer and, on the distributed path, the S3 folder of this run's lake outputs (the files are then
 * written by `./lake-export.ts` from those outputs and the account database; validationEnd is their as-of).
 * Result: the manifest (`{ cutoff, validationEnd, k, files: { <path>: { rows, bytes, sha256 } },
 * suppressedUsers, unmatchedFeedback: { unknown_request, unknown_item, expired_request } }`) plus
 * `{ localDir, s3Prefix?, featuresKey?, publishedPrefix? }`.
 *
 * The files are written under SNAPSHOT_WORK_DIR (default /tmp/snapshot) and, when SNAPSHOT_BUCKET is
 * set, uploaded to `s3://SNAPSHOT_BUCKET/SNAPSHOT_PREFIX<cutoff>/` (train/, validation/,
 * features/user_features.jsonl, manifest.json last, so a reader that sees the manifest sees complete
 * files; the channels are train/{interactions,users,feedback}.csv and
 * validation/{interactions,feedback}.csv). `featuresKey` is then the S3 key of features/user_features.jsonl (the Feature Store
 * ingest's input: one record of the feature contract, `UserFeatures`, per line, k-anonymous values
 * only, event_time = the as-of of the last feature build, else the cutoff).
 *
 * When SNAPSHOT_PUBLISH_PREFIX is set too (e.g. `training/current/`), the train/ and validation/
 * files are then copied to `<SNAPSHOT_PUBLISH_PREFIX>train/...` and `...validation/...`, objects
 * there that the snapshot lacks are deleted, and manifest.json is copied last, so the training
 * channels always hold one complete snapshot; `publishedPrefix` is `s3://bucket/<that prefix>`.
 *
 * Environment: K_ANONYMITY (default 10), SNAPSHOT_BUCKET, SNAPSHOT_PREFIX (default `snapshots/`),
 * SNAPSHOT_PUBLISH_PREFIX, SNAPSHOT_WORK_DIR, and the database settings of
 * `../../platform/shared-db/connection.ts`.
 * Metrics: SnapshotRows (the rows of every file), SuppressedUsers, UnmatchedFeedback (every reason).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { fields, lambdaEntry, powertools } from '../../platform/shared/lambda-entry';
import { putFile } from '../../platform/shared/s3-file';
import { SDK_RETRY } from '../../platform/shared/sdk-retry';
import {
  connectOptionsFromEnv,
  connectWithRetry,
  resolveClientConfig,
} from '../../platform/shared-db/connection';
import { exportSnapshot, FEATURES_FILE, SNAPSHOT_FILES, type SnapshotManifest } from './export';
import { exportLakeSnapshot } from './lake-export';
import { publishSnapshot } from './publish';
import { s3OutputLines } from './s3-parts';

const tools = powertools();
const { logger, metrics, tracer } = tools;

/** Built once per container, on the first invocation that needs it. */
let s3: S3Client | undefined;
const defaultS3 = (): S3Client => (s3 ??= tracer.captureAWSv3Client(new S3Client(SDK_RETRY.standard)));

/** What the pipeline's ExportSnapshot state sends: `{ cutoff, validationEnd, k }`. */
export const SnapshotEvent = fields.object({
  cutoff: fields.timestamp(),
  validationEnd: fields.timestamp().optional(),
  k: fields.positiveInteger().optional(),
  /** The lake's outputs of this run (`s3://bucket/outputs/<execution>/`): the distributed path. */
  lakeOutputs: fields.text().optional(),
});
export type SnapshotEvent = z.output<typeof SnapshotEvent>;

export interface SnapshotResult extends SnapshotManifest {
  localDir: string;
  s3Prefix?: string;
  /** S3 key of features/user_features.jsonl, when the snapshot was uploaded. */
  featuresKey?: string;
  /** `s3://bucket/<SNAPSHOT_PUBLISH_PREFIX>`, when the snapshot was published there. */
  publishedPrefix?: string;
}

export async function handleSnapshot(
  event: SnapshotEvent,
  env: NodeJS.ProcessEnv = process.env,
  s3: S3Client = defaultS3(),
): Promise<SnapshotResult> {
  const cutoff = new Date(event.cutoff);
  const validationEnd = event.validationEnd === undefined ? undefined : new Date(event.validationEnd);
  const k = event.k ?? Number(env.K_ANONYMITY ?? 10);
  if (env.SNAPSHOT_PUBLISH_PREFIX && !env.SNAPSHOT_BUCKET)
    throw new Error('SNAPSHOT_PUBLISH_PREFIX needs SNAPSHOT_BUCKET: only an uploaded snapshot is published');
  const localDir = join(env.SNAPSHOT_WORK_DIR ?? '/tmp/snapshot', cutoff.toISOString().replace(/[:.]/g, '-'));
  rmSync(localDir, { recursive: true, force: true });

  const client = await connectWithRetry(await resolveClientConfig(env), connectOptionsFromEnv(env));
  let manifest: SnapshotManifest;
  try {
    if (event.lakeOutputs !== undefined) {
      if (!validationEnd)
        throw new Error('a lake snapshot needs validationEnd: the as-of of the lake outputs');
      manifest = await exportLakeSnapshot(client, s3OutputLines(s3, event.lakeOutputs), localDir, {
        cutoff,
        asOf: validationEnd,
        k,
      });
    } else {
      manifest = await exportSnapshot(client, localDir, { cutoff, validationEnd, k });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  const result: SnapshotResult = { ...manifest, localDir };
  if (env.SNAPSHOT_BUCKET) {
    const prefix = `${env.SNAPSHOT_PREFIX ?? 'snapshots/'}${cutoff.toISOString()}/`;
    for (const file of [...Object.values(SNAPSHOT_FILES), FEATURES_FILE, 'manifest.json']) {
      await putFile(s3, {
        bucket: env.SNAPSHOT_BUCKET,
        key: prefix + file,
        path: join(localDir, file),
        contentType: file.endsWith('.json')
          ? 'application/json'
          : file.endsWith('.jsonl')
            ? 'application/x-ndjson'
            : 'text/csv',
      });
    }
    result.s3Prefix = `s3://${env.SNAPSHOT_BUCKET}/${prefix}`;
    result.featuresKey = prefix + FEATURES_FILE;
    const publishPrefix = env.SNAPSHOT_PUBLISH_PREFIX;
    if (publishPrefix) {
      const channels = Object.values(SNAPSHOT_FILES);
      await publishSnapshot(s3, {
        bucket: env.SNAPSHOT_BUCKET,
        sourcePrefix: prefix,
        publishPrefix,
        files: Object.fromEntries(channels.map((file) => [file, manifest.files[file]])),
      });
      result.publishedPrefix = `s3://${env.SNAPSHOT_BUCKET}/${publishPrefix}`;
    }
  }
  const rows = Object.values(manifest.files).reduce((sum, file) => sum + file.rows, 0);
  metrics.addMetric('SnapshotRows', MetricUnit.Count, rows);
  metrics.addMetric('SuppressedUsers', MetricUnit.Count, manifest.suppressedUsers);
  const unmatched = Object.values(manifest.unmatchedFeedback).reduce((sum, n) => sum + n, 0);
  metrics.addMetric('UnmatchedFeedback', MetricUnit.Count, unmatched);
  logger.info('snapshot exported', {
    cutoff: manifest.cutoff,
    rows,
    suppressedUsers: manifest.suppressedUsers,
    unmatchedFeedback: manifest.unmatchedFeedback,
    s3Prefix: result.s3Prefix,
    publishedPrefix: result.publishedPrefix,
  });
  return result;
}

export const handler = lambdaEntry(tools, SnapshotEvent, (event) => handleSnapshot(event));
