import type { S3Client } from '@aws-sdk/client-s3';
import { openObject } from '../../platform/shared/s3-object';
import { tarMembers } from './tar';
import { InvalidInputError } from './validate';

/** Reads a small object (the popularity list) whole. */
export async function readObjectText(
  s3: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<{ etag: string; text: string }> {
  const { etag, body } = await openObject(s3, bucket, key, { requireEtag: true });
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
    const recommendations = await openObject(s3, bucket, location.recommendationsKey, { requireEtag: true });
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
  const first = await openObject(s3, bucket, location.archiveKey, { requireEtag: true });
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

  const second = await openObject(s3, bucket, location.archiveKey, {
    ifMatch: first.etag,
    requireEtag: true,
  });
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
