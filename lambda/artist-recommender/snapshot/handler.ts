/**
 * Exports a training snapshot (an ETL step after the feature build).
 *
 * Event: `{ cutoff: string (ISO-8601), validationEnd?: string, k?: number }`.
 * Result: the manifest (`{ cutoff, validationEnd, k, files: { <path>: { rows, bytes, sha256 } },
 * suppressedUsers }`) plus `{ localDir, s3Prefix?, featuresKey?, publishedPrefix? }`.
 *
 * The files are written under SNAPSHOT_WORK_DIR (default /tmp/snapshot) and, when SNAPSHOT_BUCKET is
 * set, uploaded to `s3://SNAPSHOT_BUCKET/SNAPSHOT_PREFIX<cutoff>/` (train/, validation/,
 * features/user_features.jsonl, manifest.json last, so a reader that sees the manifest sees complete
 * files). `featuresKey` is then the S3 key of features/user_features.jsonl (the Feature Store
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
 * `../shared-db/connection.ts`.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createReadStream, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connectOptionsFromEnv, connectWithRetry, resolveClientConfig } from '../../platform/shared-db/connection';
import { exportSnapshot, FEATURES_FILE, SNAPSHOT_FILES, type SnapshotManifest } from './export';
import { publishSnapshot } from './publish';

export interface SnapshotEvent {
  cutoff: string;
  validationEnd?: string;
  k?: number;
}

export interface SnapshotResult extends SnapshotManifest {
  localDir: string;
  s3Prefix?: string;
  /** S3 key of features/user_features.jsonl, when the snapshot was uploaded. */
  featuresKey?: string;
  /** `s3://bucket/<SNAPSHOT_PUBLISH_PREFIX>`, when the snapshot was published there. */
  publishedPrefix?: string;
}

function parseDate(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`${name} must be an ISO-8601 timestamp`);
  return date;
}

export async function handleSnapshot(
  event: SnapshotEvent,
  env: NodeJS.ProcessEnv = process.env,
  s3: S3Client = new S3Client({}),
): Promise<SnapshotResult> {
  const cutoff = parseDate(event.cutoff, 'cutoff');
  if (!cutoff) throw new Error('cutoff is required');
  const validationEnd = parseDate(event.validationEnd, 'validationEnd');
  const k = event.k ?? Number(env.K_ANONYMITY ?? 10);
  if (env.SNAPSHOT_PUBLISH_PREFIX && !env.SNAPSHOT_BUCKET)
    throw new Error('SNAPSHOT_PUBLISH_PREFIX needs SNAPSHOT_BUCKET: only an uploaded snapshot is published');
  const localDir = join(env.SNAPSHOT_WORK_DIR ?? '/tmp/snapshot', cutoff.toISOString().replace(/[:.]/g, '-'));
  rmSync(localDir, { recursive: true, force: true });

  const client = await connectWithRetry(await resolveClientConfig(env), connectOptionsFromEnv(env));
  let manifest: SnapshotManifest;
  try {
    manifest = await exportSnapshot(client, localDir, { cutoff, validationEnd, k });
  } finally {
    await client.end().catch(() => undefined);
  }
  const result: SnapshotResult = { ...manifest, localDir };
  if (env.SNAPSHOT_BUCKET) {
    const prefix = `${env.SNAPSHOT_PREFIX ?? 'snapshots/'}${cutoff.toISOString()}/`;
    for (const file of [...Object.values(SNAPSHOT_FILES), FEATURES_FILE, 'manifest.json']) {
      const path = join(localDir, file);
      await s3.send(
        new PutObjectCommand({
          Bucket: env.SNAPSHOT_BUCKET,
          Key: prefix + file,
          Body: createReadStream(path),
          ContentLength: statSync(path).size,
          ContentType: file.endsWith('.json')
            ? 'application/json'
            : file.endsWith('.jsonl')
              ? 'application/x-ndjson'
              : 'text/csv',
        }),
      );
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
  return result;
}

export const handler = (event: SnapshotEvent): Promise<SnapshotResult> => handleSnapshot(event);
