/**
 * Exports a training snapshot (an ETL step after the feature build).
 *
 * Event: `{ cutoff: string (ISO-8601), validationEnd?: string, k?: number }`.
 * Result: the manifest (`{ cutoff, validationEnd, k, files: { <path>: { rows, bytes, sha256 } },
 * suppressedUsers }`) plus `{ localDir, s3Prefix? }`. The files are written under
 * SNAPSHOT_WORK_DIR (default /tmp/snapshot) and, when SNAPSHOT_BUCKET is set, uploaded to
 * `s3://SNAPSHOT_BUCKET/SNAPSHOT_PREFIX<cutoff>/` (train/, validation/, manifest.json last, so a
 * reader that sees the manifest sees complete files).
 * Environment: K_ANONYMITY (default 10), SNAPSHOT_BUCKET, SNAPSHOT_PREFIX (default `snapshots/`),
 * SNAPSHOT_WORK_DIR, and the database settings of `../shared-db/connection.ts`.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createReadStream, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connectOptionsFromEnv, connectWithRetry, resolveClientConfig } from '../shared-db/connection';
import { exportSnapshot, SNAPSHOT_FILES, type SnapshotManifest } from './export';

export interface SnapshotEvent {
  cutoff: string;
  validationEnd?: string;
  k?: number;
}

export interface SnapshotResult extends SnapshotManifest {
  localDir: string;
  s3Prefix?: string;
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
    for (const file of [...Object.values(SNAPSHOT_FILES), 'manifest.json']) {
      const path = join(localDir, file);
      await s3.send(
        new PutObjectCommand({
          Bucket: env.SNAPSHOT_BUCKET,
          Key: prefix + file,
          Body: createReadStream(path),
          ContentLength: statSync(path).size,
          ContentType: file.endsWith('.json') ? 'application/json' : 'text/csv',
        }),
      );
    }
    result.s3Prefix = `s3://${env.SNAPSHOT_BUCKET}/${prefix}`;
  }
  return result;
}

export const handler = (event: SnapshotEvent): Promise<SnapshotResult> => handleSnapshot(event);
