import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { tarMembers } from './tar';
import { InvalidInputError } from './validate';

export interface OpenedObject {
  /** The object's ETag, which identifies the bytes being streamed. */
  readonly etag: string;
  /** The object's bytes, decompressed when it is gzip'd. */
  readonly body: Readable;
}

/**
 * Opens an object as a stream. The ETag comes from the same response as the bytes, so the version
 * derived from it always describes what was read, even if the object is overwritten meanwhile.
 */
export async function openObject(
  s3: S3Client,
  bucket: string,
  key: string,
  ifMatch?: string,
): Promise<OpenedObject> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: ifMatch }));
  const body = response.Body;
  if (!(body instanceof Readable)) {
    throw new Error(`s3://${bucket}/${key}: expected the body as a Node stream`);
  }
  if (!response.ETag) {
    body.destroy();
    throw new Error(`s3://${bucket}/${key}: the response has no ETag`);
  }
  const gzipped = /gzip/i.test(response.ContentEncoding ?? '') || key.endsWith('.gz');
  // pipeline forwards an error of the download into the gunzip stream, so the reader sees it.
  const stream = gzipped ? pipeline(body, createGunzip(), () => undefined) : body;
  return { etag: response.ETag, body: stream };
}

/** Reads a small object (the popularity list) whole. */
export async function readObjectText(
  s3: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<{ etag: string; text: string }> {
  const { etag, body } = await openObject(s3, bucket, key);
  try {
    return { etag, text: await readText(body, maxBytes, `s3://${bucket}/${key}`) };
  } finally {
    body.destroy();
  }
}

/** Reads a small stream whole, refusing one larger than `maxBytes`. */
export async function readText(
  body: AsyncIterable<Buffer | string>,
  maxBytes: number,
  what: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > maxBytes) throw new Error(`${what} is larger than ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Where a load's two inputs are: two objects, or two members of one archive. */
export type InputLocation =
  | { readonly bucket: string; readonly recommendationsKey: string; readonly popularityKey: string }
  | {
      readonly bucket: string;
      readonly archiveKey: string;
      readonly recommendationsMember: string;
      readonly popularityMember: string;
    };

export interface OpenedInputs {
  readonly popularity: { readonly etag: string; readonly text: string };
  readonly recommendations: {
    readonly etag: string;
    readonly body: AsyncIterable<Buffer | string>;
    /** Stops the download; safe to call more than once. */
    close(): void;
  };
}

/**
 * Reads the popularity list and opens `recommendations.jsonl` as a stream. A SageMaker training job
 * delivers its output directory as one `output.tar.gz`, so the inputs may be members of an archive:
 * the archive is then read twice, once to find the small popularity list (members come in no fixed
 * order) and once to stream the recommendations, the second read pinned to the first one's ETag.
 */
export async function openInputs(
  s3: S3Client,
  location: InputLocation,
  maxSmallBytes: number,
): Promise<OpenedInputs> {
  const { bucket } = location;
  if (!('archiveKey' in location)) {
    const popularity = await readObjectText(s3, bucket, location.popularityKey, maxSmallBytes);
    const recommendations = await openObject(s3, bucket, location.recommendationsKey);
    return {
      popularity,
      recommendations: {
        etag: recommendations.etag,
        body: recommendations.body,
        close: () => recommendations.body.destroy(),
      },
    };
  }

  const where = (member: string) => `${member} in s3://${bucket}/${location.archiveKey}`;
  const first = await openObject(s3, bucket, location.archiveKey);
  let text: string | undefined;
  try {
    for await (const member of tarMembers(first.body)) {
      if (member.name === location.popularityMember) {
        text = await readText(member.body, maxSmallBytes, where(member.name));
        break;
      }
    }
  } finally {
    first.body.destroy();
  }
  if (text === undefined) throw new InvalidInputError(`there is no ${where(location.popularityMember)}`);

  const second = await openObject(s3, bucket, location.archiveKey, first.etag);
  try {
    const members = tarMembers(second.body);
    for (;;) {
      const next = await members.next();
      if (next.done) throw new InvalidInputError(`there is no ${where(location.recommendationsMember)}`);
      if (next.value.name === location.recommendationsMember) {
        return {
          popularity: { etag: first.etag, text },
          recommendations: { etag: second.etag, body: next.value.body, close: () => second.body.destroy() },
        };
      }
    }
  } catch (error) {
    second.body.destroy();
    throw error;
  }
}
