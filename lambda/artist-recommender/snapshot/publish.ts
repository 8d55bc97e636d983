import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';

/** CopyObject copies at most 5 GiB; a larger file would need a multipart copy. */
export const MAX_COPY_BYTES = 5 * 1024 ** 3;

export interface PublishRequest {
  bucket: string;
  /** Where the snapshot was uploaded, e.g. `snapshots/2026-02-15T00:00:00.000Z/`. */
  sourcePrefix: string;
  /** The fixed prefix the training channels read, e.g. `training/current/`. */
  publishPrefix: string;
  /** Files (relative to both prefixes) to publish, with their sizes; manifest.json is added last. */
  files: Record<string, { bytes: number }>;
}

export interface PublishResult {
  copied: string[];
  deleted: string[];
}

/** The CopySource header: bucket and key, the key URL-encoded except for its slashes. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Makes `publishPrefix` hold exactly one snapshot: copies its files there (server side), deletes
 * what the new snapshot does not have, then copies manifest.json. The channels' files have fixed
 * names, so a training job that starts meanwhile reads either file version whole, and the manifest
 * under the publish prefix names the snapshot only once every file of it is in place.
 */
export async function publishSnapshot(s3: S3Client, request: PublishRequest): Promise<PublishResult> {
  const { bucket, sourcePrefix, publishPrefix } = request;
  if (!publishPrefix.endsWith('/') || publishPrefix === '/')
    throw new Error(`SNAPSHOT_PUBLISH_PREFIX must end with '/' and not be the bucket root: ${publishPrefix}`);
  if (sourcePrefix.startsWith(publishPrefix) || publishPrefix.startsWith(sourcePrefix))
    throw new Error(`the publish prefix ${publishPrefix} overlaps the snapshot prefix ${sourcePrefix}`);
  for (const [file, { bytes }] of Object.entries(request.files)) {
    if (bytes > MAX_COPY_BYTES) throw new Error(`${file} holds ${bytes} bytes: more than CopyObject copies`);
  }
  const files = [...Object.keys(request.files), 'manifest.json'];
  const wanted = new Set(files.map((file) => publishPrefix + file));
  const existing = await listKeys(s3, bucket, publishPrefix);

  const copy = (file: string) =>
    s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: publishPrefix + file,
        CopySource: copySource(bucket, sourcePrefix + file),
        MetadataDirective: 'COPY',
      }),
    );
  const copied: string[] = [];
  for (const file of files.slice(0, -1)) {
    await copy(file);
    copied.push(publishPrefix + file);
  }

  const stale = existing.filter((key) => !wanted.has(key));
  for (let i = 0; i < stale.length; i += 1000) {
    const batch = stale.slice(i, i + 1000);
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    if (out.Errors && out.Errors.length > 0) {
      const first = out.Errors[0];
      throw new Error(
        `could not delete ${out.Errors.length} stale object(s) under ${publishPrefix}; first: ${first.Key}: ${first.Code} ${first.Message ?? ''}`,
      );
    }
  }

  await copy('manifest.json');
  copied.push(publishPrefix + 'manifest.json');
  return { copied, deleted: stale };
}
