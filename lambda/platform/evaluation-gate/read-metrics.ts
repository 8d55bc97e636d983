import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { Parser, type ReadEntry } from 'tar';

/** metrics.json is a few kilobytes; anything larger is not ours. */
const MAX_METRICS_BYTES = 1024 * 1024;

/** Thrown when metrics cannot be read as JSON; the gate turns it into an `invalid` decision. */
export class MetricsUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsUnreadableError';
  }
}

/** Reads a JSON object from S3; undefined when the object does not exist. */
export async function readJsonObject(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  let body: Readable;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined;
    throw error;
  }
  return parseJson(await collect(body), key);
}

/**
 * Reads one JSON member of a training job's `output.tar.gz`, streaming: the archive also holds the
 * batch outputs a design writes beside it, which can be gigabytes.
 */
export async function readJsonMember(
  s3: S3Client,
  bucket: string,
  key: string,
  member: string,
): Promise<unknown> {
  let body: Readable;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
  } catch (error) {
    if (error instanceof NoSuchKey) throw new MetricsUnreadableError(`s3://${bucket}/${key} does not exist`);
    throw error;
  }
  let found: Promise<Buffer> | undefined;
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      if (!found && normalise(entry.path) === member) found = collect(entry);
      else entry.resume();
    },
  });
  try {
    await pipeline(body, createGunzip(), parser);
  } catch (error) {
    throw new MetricsUnreadableError(
      `s3://${bucket}/${key} is not a gzipped tar archive: ${(error as Error).message}`,
    );
  }
  if (!found) throw new MetricsUnreadableError(`s3://${bucket}/${key} has no ${member}`);
  return parseJson(await found, `${key}:${member}`);
}

function normalise(entryPath: string): string {
  return entryPath.replace(/^\.\//, '');
}

async function collect(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_METRICS_BYTES)
      throw new MetricsUnreadableError(`metrics exceed ${MAX_METRICS_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(data: Buffer, where: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    throw new MetricsUnreadableError(`${where} is not JSON`);
  }
}
