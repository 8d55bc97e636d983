import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface OpenedObject {
  /** The object's ETag, which identifies the bytes being streamed ('' when S3 sent none). */
  readonly etag: string;
  /** The object's bytes, decompressed when it is gzip'd (a `.gz` key or a gzip Content-Encoding). */
  readonly body: Readable;
}

/**
 * Opens an S3 object as a stream, never holding it whole. The ETag comes from the same response as
 * the bytes, so whatever is derived from it describes what was read, even if the object is
 * overwritten meanwhile. `ifMatch` pins a second read to the bytes of a first one; `requireEtag`
 * refuses a response without one, for callers that identify what they read by it.
 */
export async function openObject(
  s3: S3Client,
  bucket: string,
  key: string,
  options: { ifMatch?: string; requireEtag?: boolean } = {},
): Promise<OpenedObject> {
  const response = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: options.ifMatch }),
  );
  const body = response.Body;
  if (!(body instanceof Readable)) {
    throw new Error(`s3://${bucket}/${key}: expected the body as a Node stream`);
  }
  if (options.requireEtag && !response.ETag) {
    body.destroy();
    throw new Error(`s3://${bucket}/${key}: the response has no ETag`);
  }
  const gzipped = /gzip/i.test(response.ContentEncoding ?? '') || key.endsWith('.gz');
  // pipeline forwards an error of the download into the gunzip stream, so the reader sees it.
  const stream = gzipped ? pipeline(body, createGunzip(), () => undefined) : body;
  return { etag: response.ETag ?? '', body: stream };
}
