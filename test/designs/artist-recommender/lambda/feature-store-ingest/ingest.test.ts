import {
  captureOutput,
  lambdaContext,
  logLines,
  metricsLines,
} from '../../../../platform/lambda/support/invocation';
import { ParseError } from '@aws-lambda-powertools/parser';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
  type FeatureValue,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  handleIngest,
  handler,
  parseIngestEvent,
  readIngestConfig,
  type IngestConfig,
} from '../../../../../lambda/artist-recommender/feature-store-ingest/handler';
import {
  IngestFailedError,
  parseRecord,
} from '../../../../../lambda/artist-recommender/feature-store-ingest/ingest';

const s3mock = apiCheckedMockClient(S3Client);
const fsmock = apiCheckedMockClient(SageMakerFeatureStoreRuntimeClient);
const clients = {
  s3: new S3Client({ region: 'us-east-1' }),
  featureStore: new SageMakerFeatureStoreRuntimeClient({ region: 'us-east-1' }),
};
const config = (overrides: Partial<IngestConfig['options']> = {}): IngestConfig => {
  const base = readIngestConfig({ FEATURE_GROUP_NAME: 'user-features' });
  return { ...base, maxLineBytes: 4096, options: { ...base.options, ...overrides } };
};

function record(i: number): Record<string, unknown> {
  return {
    user_id: `u${i}`,
    age_group: '25-34',
    location: 'us/ca/san francisco',
    top_artists: 'a1,a2,a3',
    top_songs: 's1-0',
    interaction_count: i % 50,
    event_time: '2026-02-15T00:00:00.000Z',
  };
}

function serveObject(text: string | Buffer, chunkBytes = 8192): void {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  s3mock.on(GetObjectCommand).callsFake(() => ({
    Body: Readable.from(
      (function* () {
        for (let i = 0; i < bytes.length; i += chunkBytes) yield bytes.subarray(i, i + chunkBytes);
      })(),
    ),
  }));
}

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
const invalid = () =>
  Object.assign(new Error('Feature nope is not defined'), {
    name: 'ValidationError',
    $metadata: { httpStatusCode: 400 },
  });

beforeEach(() => {
  s3mock.reset();
  fsmock.reset();
});
afterAll(() => {
  s3mock.restore();
  fsmock.restore();
});
const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
afterAll(() => log.mockRestore());

describe('parseRecord', () => {
  it('sends every field as a string, numbers in decimal', () => {
    const parsed = parseRecord(JSON.stringify({ ...record(7), extra: 1.5 }));
    expect(parsed).toEqual({
      ok: true,
      record: [
        { FeatureName: 'user_id', ValueAsString: 'u7' },
        { FeatureName: 'age_group', ValueAsString: '25-34' },
        { FeatureName: 'location', ValueAsString: 'us/ca/san francisco' },
        { FeatureName: 'top_artists', ValueAsString: 'a1,a2,a3' },
        { FeatureName: 'top_songs', ValueAsString: 's1-0' },
        { FeatureName: 'interaction_count', ValueAsString: '7' },
        { FeatureName: 'event_time', ValueAsString: '2026-02-15T00:00:00.000Z' },
        { FeatureName: 'extra', ValueAsString: '1.5' },
      ],
    });
  });

  it.each([
    ['{"user_id":', 'not valid JSON'],
    ['[1]', 'not a JSON object'],
    [JSON.stringify({ ...record(1), user_id: undefined }), 'user_id is missing'],
    [JSON.stringify({ ...record(1), user_id: '' }), 'user_id is empty'],
    [JSON.stringify({ ...record(1), location: 5 }), 'location must be a string'],
    [
      JSON.stringify({ ...record(1), interaction_count: '3' }),
      'interaction_count must be a non-negative integer',
    ],
    [
      JSON.stringify({ ...record(1), interaction_count: -1 }),
      'interaction_count must be a non-negative integer',
    ],
    [
      JSON.stringify({ ...record(1), event_time: 'yesterday' }),
      'event_time must be an ISO-8601 timestamp with a zone',
    ],
    [
      JSON.stringify({ ...record(1), event_time: '2026-02-15T00:00:00' }),
      'event_time must be an ISO-8601 timestamp with a zone',
    ],
    [JSON.stringify({ ...record(1), nested: { a: 1 } }), 'nested must be a string or a number'],
  ])('rejects case %#', (line, reason) => {
    expect(parseRecord(line)).toEqual({ ok: false, reason });
  });
});

describe('handleIngest', () => {
  it('writes every record once, through the one client, to the feature group', async () => {
    serveObject([1, 2, 3].map((i) => JSON.stringify(record(i))).join('\n') + '\n');
    fsmock.on(PutRecordCommand).resolves({});
    const result = await handleIngest(
      { bucket: 'b', key: 'features/user_features.jsonl' },
      config(),
      clients,
    );
    expect(result).toEqual({ records: 3, failed: 0, badLines: 0, badLineSamples: [] });
    expect(fsmock.commandCalls(PutRecordCommand)).toHaveLength(3);
    const users = fsmock
      .commandCalls(PutRecordCommand)
      .map((c) => c.args[0].input.Record?.find((f) => f.FeatureName === 'user_id')?.ValueAsString);
    expect(new Set(users)).toEqual(new Set(['u1', 'u2', 'u3']));
    for (const call of fsmock.commandCalls(PutRecordCommand))
      expect(call.args[0].input.FeatureGroupName).toBe('user-features');
  });

  it('throws after every line was tried when records stay refused', async () => {
    serveObject([1, 2, 3, 4].map((i) => JSON.stringify(record(i))).join('\n') + '\n');
    fsmock.on(PutRecordCommand).callsFake((input: { Record: FeatureValue[] }) => {
      const user = input.Record.find((f) => f.FeatureName === 'user_id')?.ValueAsString;
      if (user === 'u2') throw throttled();
      if (user === 'u4') throw invalid();
      return {};
    });
    const error = await handleIngest({ bucket: 'b', key: 'k.jsonl' }, config(), clients).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IngestFailedError);
    const failure = error as IngestFailedError;
    expect(failure.result).toMatchObject({ records: 2, failed: 2, badLines: 0 });
    expect(failure.failedSamples).toEqual(
      expect.arrayContaining([
        { line: 2, reason: 'ThrottlingException: Rate exceeded' },
        { line: 4, reason: 'ValidationError: Feature nope is not defined' },
      ]),
    );
    expect(failure.message).toMatch(/2 record\(s\) were refused after retries/);
    // A record the client still refuses after its own retries is not sent again by the handler.
    expect(fsmock.commandCalls(PutRecordCommand)).toHaveLength(4);
  });

  it('counts bad lines with their numbers and sends the rest', async () => {
    const lines = [
      JSON.stringify(record(1)),
      '{"broken": ',
      '',
      JSON.stringify({ ...record(3), event_time: 'soon' }),
      '   ',
      JSON.stringify(record(4)),
      'x'.repeat(5000),
      JSON.stringify({ ...record(5), interaction_count: 1.5 }),
      JSON.stringify(record(6)),
    ];
    serveObject(lines.join('\r\n'), 100);
    fsmock.on(PutRecordCommand).resolves({});
    const result = await handleIngest({ bucket: 'b', key: 'k.jsonl' }, config(), clients);
    expect(result).toEqual({
      records: 3,
      failed: 0,
      badLines: 4,
      badLineSamples: [
        { line: 2, reason: 'not valid JSON' },
        { line: 4, reason: 'event_time must be an ISO-8601 timestamp with a zone' },
        { line: 7, reason: 'the line holds 5000 bytes, more than the limit' },
        { line: 8, reason: 'interaction_count must be a non-negative integer' },
      ],
    });
  });

  it('counts a line that is not valid UTF-8 as bad instead of sending a repaired id', async () => {
    // GIVEN a record whose user id holds a byte that is not UTF-8, between two good records
    const broken = Buffer.from(
      JSON.stringify({ ...record(2), user_id: 'u\u00ff2' }).replace('\u00ff', '\u0000'),
    );
    broken[broken.indexOf(0)] = 0xff;
    const object = Buffer.concat([
      Buffer.from(JSON.stringify(record(1)) + '\n'),
      broken,
      Buffer.from('\n' + JSON.stringify(record(3)) + '\n'),
    ]);
    serveObject(object);
    fsmock.on(PutRecordCommand).resolves({});
    // WHEN it is ingested
    const result = await handleIngest({ bucket: 'b', key: 'k.jsonl' }, config(), clients);
    // THEN the broken line is counted, and only the good records are sent
    expect(result).toEqual({
      records: 2,
      failed: 0,
      badLines: 1,
      badLineSamples: [{ line: 2, reason: 'the line is not valid UTF-8' }],
    });
    expect(fsmock.commandCalls(PutRecordCommand)).toHaveLength(2);
  });

  it('keeps only the first samples but counts every bad line', async () => {
    serveObject(Array.from({ length: 50 }, () => 'nope').join('\n'));
    const result = await handleIngest({ bucket: 'b', key: 'k.jsonl' }, config({ maxSamples: 5 }), clients);
    expect(result.badLines).toBe(50);
    expect(result.badLineSamples.map((s) => s.line)).toEqual([1, 2, 3, 4, 5]);
  });

  it('streams 10,000 lines with at most INGEST_CONCURRENCY puts in flight', async () => {
    const text = Array.from({ length: 10_000 }, (_, i) => JSON.stringify(record(i))).join('\n') + '\n';
    serveObject(gzipSync(text), 4096);
    let inFlight = 0;
    let peak = 0;
    fsmock.on(PutRecordCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return {};
    });
    const cfg = readIngestConfig({ FEATURE_GROUP_NAME: 'user-features', INGEST_CONCURRENCY: '16' });
    const result = await handleIngest({ bucket: 'b', key: 'features/user_features.jsonl.gz' }, cfg, clients);
    expect(result).toEqual({ records: 10_000, failed: 0, badLines: 0, badLineSamples: [] });
    expect(peak).toBe(16);
    const ids = new Set(
      fsmock
        .commandCalls(PutRecordCommand)
        .map((c) => c.args[0].input.Record?.find((f) => f.FeatureName === 'user_id')?.ValueAsString),
    );
    expect(ids.size).toBe(10_000);
  });
});

describe('configuration and event', () => {
  it('reads the environment with defaults and refuses bad values', () => {
    expect(readIngestConfig({ FEATURE_GROUP_NAME: 'g' })).toMatchObject({
      maxAttempts: 8,
      options: { concurrency: 16 },
    });
    expect(() => readIngestConfig({})).toThrow('FEATURE_GROUP_NAME is required');
    expect(() => readIngestConfig({ FEATURE_GROUP_NAME: 'g', INGEST_CONCURRENCY: '0' })).toThrow(
      /INGEST_CONCURRENCY must be an integer/,
    );
  });

  it('requires bucket and key', () => {
    expect(parseIngestEvent({ bucket: 'b', key: 'k' })).toEqual({ bucket: 'b', key: 'k' });
    expect(() => parseIngestEvent({ bucket: 'b' })).toThrow(/key is missing/);
    expect(() => parseIngestEvent({ key: 'k' })).toThrow(/bucket is missing/);
    expect(() => parseIngestEvent(null)).toThrow(/the event must be an object/);
  });
});

describe('the Lambda entry', () => {
  const previous = process.env.FEATURE_GROUP_NAME;
  beforeAll(() => {
    process.env.FEATURE_GROUP_NAME = 'user-features';
  });
  afterAll(() => {
    process.env.FEATURE_GROUP_NAME = previous;
  });

  it("refuses the pipeline's event without a features key, naming the field", async () => {
    // What IngestFeatures sends when the snapshot was not uploaded: no featuresKey to read.
    const error = await handler({ bucket: 'artifacts', key: null }, lambdaContext('ingest-0')).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toBe('invalid event: key must be a string');
    expect(s3mock.calls()).toHaveLength(0);
  });

  it('logs each invocation with its request id and flushes its counts after it', async () => {
    const stdout = captureOutput();
    try {
      // GIVEN a file of two records, then one whose second record the store refuses
      serveObject([1, 2].map((i) => JSON.stringify(record(i))).join('\n'));
      fsmock.on(PutRecordCommand).resolves({});
      // WHEN the function is invoked for each
      await handler({ bucket: 'b', key: 'one.jsonl' }, lambdaContext('ingest-1'));
      serveObject(
        [3, 4, 'bad'].map((i) => (i === 'bad' ? '{' : JSON.stringify(record(i as number)))).join('\n'),
      );
      fsmock.on(PutRecordCommand).callsFake((input: { Record: FeatureValue[] }) => {
        if (input.Record.some((f) => f.FeatureName === 'user_id' && f.ValueAsString === 'u4'))
          throw invalid();
        return {};
      });
      await expect(handler({ bucket: 'b', key: 'two.jsonl' }, lambdaContext('ingest-2'))).rejects.toThrow(
        IngestFailedError,
      );
      // THEN the summary line carries the first request's id
      const done = logLines(stdout).filter((line) => line.message === 'features ingested');
      expect(done).toEqual([expect.objectContaining({ function_request_id: 'ingest-1', records: 2 })]);
      // AND each invocation flushed its own counts, the failed one included
      const counts = metricsLines(stdout)
        .filter((line) => line.names.includes('RecordsWritten'))
        .map((line) => line.values);
      expect(counts).toEqual([
        { RecordsWritten: 2, RecordsFailed: 0, BadLines: 0 },
        { RecordsWritten: 1, RecordsFailed: 1, BadLines: 1 },
      ]);
    } finally {
      stdout.restore();
    }
  });
});
