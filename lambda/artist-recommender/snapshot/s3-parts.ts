import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createInterface } from 'node:readline';
import { openObject } from '../../platform/shared/s3-object';
import type { LakeOutput } from '../lake/queries';
import type { LakeOutputLines } from './lake-export';

/** `s3://bucket/prefix/` into its bucket and prefix (with the trailing slash). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*\/)?$/.exec(url);
  if (!match) throw new Error(`not an s3:// folder URL (s3://bucket/prefix/): ${url}`);
  return { bucket: match[1], prefix: match[2] ?? '' };
}

/**
 * The JSON lines of the lake outputs unloaded under `url` (`<url><output>/`, gzip parts as Athena's
 * UNLOAD writes them), read part by part, never whole in memory. UNLOAD writes its parts and then
 * ends the query, so every part listed after the query ended is complete.
 */
export function s3OutputLines(s3: S3Client, url: string): LakeOutputLines {
  const { bucket, prefix } = parseS3Url(url);
  return async function* lines(output: LakeOutput): AsyncGenerator<string> {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${output}/`, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || !object.Key.endsWith('.gz')) continue;
        // Gunzipped by openObject, which passes a failed download on to the reader.
        const { body } = await openObject(s3, bucket, object.Key);
        yield* createInterface({ input: body, crlfDelay: Infinity });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  };
}
