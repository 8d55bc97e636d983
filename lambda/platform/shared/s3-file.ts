import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createReadStream, statSync } from 'node:fs';

/**
 * Uploads a local file as one object, streamed from disk: PutObject needs the length of a stream
 * body, which the file's size gives.
 */
export async function putFile(
  s3: S3Client,
  target: { bucket: string; key: string; path: string; contentType: string },
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      Body: createReadStream(target.path),
      ContentLength: statSync(target.path).size,
      ContentType: target.contentType,
    }),
  );
}
