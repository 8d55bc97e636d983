/**
 * The cache loader's Lambda entry, as the training pipeline's LoadCache state invokes it: the event
 * parsed before any connection, every invocation logged with its request id and its metrics flushed.
 */
import {
  captureOutput,
  lambdaContext,
  logLines,
  metricsLines,
  type StdoutCapture,
} from '../../../../platform/lambda/support/invocation';
import { ParseError } from '@aws-lambda-powertools/parser';
import { createServer } from 'node:net';
import { handler } from '../../../../../lambda/artist-recommender/cache-loader/handler';
import { CacheConnectError } from '../../../../../lambda/platform/shared/cache-client';

/** What LoadCache sends for a promoted run (lib/designs/artist-recommender/cache-load.ts). */
const LOAD_CACHE_EVENT = {
  bucket: 'artifacts',
  archiveKey: 'models/job-1/output/output.tar.gz',
  recommendationsMember: 'recommendations.jsonl',
  popularityMember: 'popularity.json',
  variant: 'champion',
};

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let stdout: StdoutCapture;
const saved = { ...process.env };
beforeAll(async () => {
  process.env.CACHE_HOST = '127.0.0.1';
  process.env.CACHE_PORT = String(await closedPort());
  process.env.CACHE_CONNECT_TIMEOUT_MS = '200';
});
afterAll(() => {
  process.env = saved;
});
beforeEach(() => {
  stdout = captureOutput();
});
afterEach(() => stdout.restore());

describe('the cache loader entry', () => {
  it('refuses an event without one of the archive members, naming it, before connecting', async () => {
    const event: Record<string, unknown> = { ...LOAD_CACHE_EVENT };
    delete event.popularityMember;
    const error = await handler(event, lambdaContext('load-0')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toBe('invalid event: popularityMember is missing');
    expect(logLines(stdout).filter((line) => line.message === 'cache load failed')).toEqual([]);
  });

  it('refuses a variant that would forge a cache key', async () => {
    await expect(handler({ ...LOAD_CACHE_EVENT, variant: 'a:b' }, lambdaContext('load-1'))).rejects.toThrow(
      /^invalid event: variant must match/,
    );
  });

  it('logs a failed load with its request id and flushes the failure count of each invocation', async () => {
    // WHEN two loads find no cache to connect to
    for (const id of ['load-2', 'load-3']) {
      await expect(handler(LOAD_CACHE_EVENT, lambdaContext(id))).rejects.toBeInstanceOf(CacheConnectError);
    }
    // THEN each failure is logged with its own request id and counted once, by its own invocation
    const failures = logLines(stdout).filter((line) => line.message === 'cache load failed');
    expect(failures.map((line) => line.function_request_id)).toEqual(['load-2', 'load-3']);
    const counted = metricsLines(stdout).filter((line) => line.names.includes('LoadsFailed'));
    expect(counted.map((line) => line.values.LoadsFailed)).toEqual([1, 1]);
  });
});
