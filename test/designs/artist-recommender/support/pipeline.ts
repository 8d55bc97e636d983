/**
 * Runs the ETL over a generated data directory (scripts/artist-recommender/generate-data.ts)
 * against a local PostgreSQL: used by the end-to-end pipeline test and the ETL benchmark.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  emptyCounts,
  type TransformCounts,
} from '../../../../lambda/artist-recommender/event-transform/classify';
import {
  handleTransform,
  type TransformResult,
} from '../../../../lambda/artist-recommender/event-transform/handler';

export async function loadAccountsCsv(client: ClientBase, path: string): Promise<void> {
  await pipeline(
    createReadStream(path),
    client.query(
      copyFrom(
        'COPY accounts (user_id, date_of_birth, city, state, country, created_at) FROM STDIN WITH (FORMAT csv, HEADER true)',
      ),
    ),
  );
}

export { rawKeys } from '../../../../scripts/artist-recommender/generate-data';

export interface DirectoryRun {
  totals: TransformCounts;
  results: TransformResult[];
  /** Quarantine objects written, by key. */
  quarantine: Map<string, Buffer>;
}

/**
 * Transforms the given raw objects through the real handler, with S3 served from the directory
 * (the SDK mocked at its client boundary) and the database from `env`.
 */
export async function transformDirectory(
  dataDir: string,
  keys: string[],
  env: NodeJS.ProcessEnv,
  now: number,
): Promise<DirectoryRun> {
  const s3 = apiCheckedMockClient(S3Client);
  const quarantine = new Map<string, Buffer>();
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
    Body: createReadStream(join(dataDir, input.Key)),
  }));
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: Buffer }) => {
    quarantine.set(input.Key, input.Body);
    return {};
  });
  const log = console.log;
  console.log = () => undefined;
  try {
    const totals: TransformCounts = emptyCounts();
    const results: TransformResult[] = [];
    const client = new S3Client({ region: 'us-east-1' });
    for (const key of keys) {
      const result = await handleTransform({ bucket: 'raw', key }, env, client, () => now);
      results.push(result);
      for (const name of Object.keys(totals) as (keyof TransformCounts)[]) totals[name] += result[name];
    }
    return { totals, results, quarantine };
  } finally {
    console.log = log;
    s3.restore();
  }
}
