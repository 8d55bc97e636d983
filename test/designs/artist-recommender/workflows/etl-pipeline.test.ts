/**
 * The ETL state machine, as synthesized for each profile and each feature engine, run in
 * aws-local-stepfunctions: the JSONata PlanRun evaluated with jsonata, the Distributed Map
 * TransformDay run as a Map Run (S3 item reader, one child execution per raw object, result writer),
 * every Task answered by a stub that validates its request against the AWS API model. The lake path
 * is the artist recommender as designed (its requirements choose it); the PostgreSQL path is the same
 * design with requirements below the threshold. On the lake path, the queries the state machine
 * renders also run on the lake's local engine (DuckDB).
 */
import type { TransformResult } from '../../../../lambda/artist-recommender/event-transform/handler';
import type { FeatureRun } from '../../../../lambda/artist-recommender/features/build';
import type { IngestResult } from '../../../../lambda/artist-recommender/feature-store-ingest/ingest';
import type { MigrateResult } from '../../../../lambda/platform/db-migrate/migrate';
import type { SnapshotResult } from '../../../../lambda/artist-recommender/snapshot/handler';
import type { ProfileName } from '../../../../lib/platform/config/profile';
import {
  deployedStateMachine,
  deployedStateMachines,
  deployedValue,
  lambdaFunctionError,
  runStateMachine,
  serviceError,
  StepFunctionsError,
  synthesizeApp,
  validateDefinitionStatically,
  type DeployedStateMachine,
  type ExecutionResult,
  type Responder,
  type SynthesizedApp,
} from '../../../support/asl';
import {
  artistRecommender,
  type ArtistRecommenderDesign,
} from '../../../../lib/designs/artist-recommender/design';
import { addArtistRecommenderStacks } from '../../../../lib/designs/artist-recommender/stacks';
import { DESIGNS } from '../../../../lib/designs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLake } from '../../../../lambda/artist-recommender/lake/duckdb';
import { LAKE_OUTPUTS } from '../../../../lambda/artist-recommender/lake/queries';
import { generateData } from '../../../../scripts/artist-recommender/generate-data';
import { athenaOnDuckDb, type AthenaOnDuckDb } from '../support/athena-on-duckdb';
import { ETL_STATES } from '../support/etl-states';
import { rawKeys, transformDirectory } from '../support/pipeline';
import { EtlStack } from '../../../../lib/designs/artist-recommender/etl-stack';
import { DataStack } from '../../../../lib/platform/stacks/data-stack';
import { PipelineStack } from '../../../../lib/platform/stacks/pipeline-stack';

type Path = 'lake' | 'postgres';
/** A profile and the feature engine of the design synthesized for it. */
type Variant = `${ProfileName}/${Path}`;
const VARIANTS: Variant[] = ['sandbox/lake', 'production/lake', 'sandbox/postgres', 'production/postgres'];

/** The recommender with requirements the account database serves: the PostgreSQL path. */
const smallRecommender: ArtistRecommenderDesign = {
  ...artistRecommender,
  requirements: { ...artistRecommender.requirements, dailyActiveUsers: 10_000, peakRequestsPerSecond: 10 },
  addStacks: (app, config) => addArtistRecommenderStacks(app, config, smallRecommender),
};
const DAY = '2025-03-14';
const OBJECTS = [
  'raw/2025/03/14/00/ArtistRecommender-events-1-2025-03-14-00-15-27-6f1c2a9e-1d2b-4c3d-8e4f-5a6b7c8d9e0f.gz',
  'raw/2025/03/14/13/ArtistRecommender-events-1-2025-03-14-13-02-11-0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d.gz',
];

interface Setup {
  readonly app: SynthesizedApp;
  readonly machine: DeployedStateMachine;
  readonly rawBucket: string;
  readonly artifactsBucket: string;
  readonly topicArn: string;
  /** The lake's bucket, on the lake path. */
  readonly lakeBucket?: string;
}

const setups = new Map<Variant, Setup>();

beforeAll(() => {
  for (const variant of VARIANTS) {
    const [profile, path] = variant.split('/') as [ProfileName, Path];
    const app =
      path === 'lake'
        ? synthesizeApp(profile, artistRecommender.id)
        : synthesizeApp(profile, artistRecommender.id, {
            ...DESIGNS,
            [artistRecommender.id]: smallRecommender,
          });
    const data = app.stack(DataStack);
    const etl = app.stack(EtlStack);
    expect(Boolean(data.lake)).toBe(path === 'lake');
    setups.set(variant, {
      app,
      machine: deployedStateMachine(app, etl.pipeline.stateMachine),
      rawBucket: deployedValue(app, data, data.rawEvents.bucket.bucketName) as string,
      artifactsBucket: deployedValue(app, data, data.artifacts.bucket.bucketName) as string,
      topicArn: deployedValue(app, etl, etl.notifications.topicArn) as string,
      lakeBucket: data.lake && (deployedValue(app, data, data.lake.bucket.bucketName) as string),
    });
  }
});

const setup = (variant: Variant): Setup => setups.get(variant) as Setup;
const onLake = (variant: Variant): boolean => variant.endsWith('/lake');

/** A fake AWS for one run: the raw bucket holds `objects`, each function answers as its handler does. */
function fakeAws(profile: Variant, objects: readonly string[] = OBJECTS): Record<string, Responder> {
  const { artifactsBucket } = setup(profile);
  return {
    Migrate: (): MigrateResult => ({ applied: [], current: 7 }),
    // One object per page, so a day of several objects is read across pages.
    'TransformDay.ItemReader': (request) => {
      const listed = objects.filter((key) => key.startsWith(request.Prefix));
      const start = request.ContinuationToken
        ? Number(Buffer.from(request.ContinuationToken, 'base64').toString())
        : 0;
      const page = listed.slice(start, start + 1);
      const more = start + 1 < listed.length;
      return {
        Name: request.Bucket,
        Prefix: request.Prefix,
        KeyCount: page.length,
        MaxKeys: 1000,
        IsTruncated: more,
        ...(page.length > 0
          ? {
              Contents: page.map((Key, index) => ({
                Key,
                LastModified: '2025-03-14T13:17:02.000Z',
                ETag: `"${(start + index).toString(16).padStart(32, 'a')}"`,
                Size: 4_812_331,
                StorageClass: 'STANDARD',
              })),
            }
          : {}),
        ...(more ? { NextContinuationToken: Buffer.from(String(start + 1)).toString('base64') } : {}),
      };
    },
    TransformObject: (request): TransformResult => {
      const { bucket, key } = JSON.parse(request.Payload) as { bucket: string; key: string };
      return {
        bucket,
        key,
        input: 120_000,
        clean: 119_880,
        duplicates: 100,
        quarantined: 20,
        loaded: 119_870,
        recommendations: 9_000,
        feedback: 30_000,
        loadedRecommendations: 8_990,
        loadedServedItems: 89_900,
        loadedFeedback: 29_950,
      };
    },
    BuildFeatures: (request): FeatureRun => ({
      asOf: JSON.parse(request.Payload).asOf,
      rows: { feature_user_profile: 48_211, feature_user_top_artists: 412_930 },
      unmatchedFeedback: { unknown_request: 120, unknown_item: 8, expired_request: 3 },
      timingsMs: { '010_user_profile.sql': 5_210, '020_user_top_artists.sql': 18_455 },
    }),
    ExportSnapshot: (request): SnapshotResult => {
      const { cutoff, validationEnd, k } = JSON.parse(request.Payload);
      const prefix = `snapshots/${cutoff}/`;
      return {
        cutoff,
        validationEnd,
        k,
        files: { 'train/interactions.csv': { rows: 3_120_554, bytes: 98_114_002, sha256: 'ab'.repeat(32) } },
        suppressedUsers: 14,
        unmatchedFeedback: { unknown_request: 120, unknown_item: 8, expired_request: 3 },
        localDir: `/tmp/snapshot/${cutoff.replace(/[:.]/g, '-')}`,
        s3Prefix: `s3://${artifactsBucket}/${prefix}`,
        featuresKey: `${prefix}features/user_features.jsonl`,
      };
    },
    IngestFeatures: (): IngestResult => ({ records: 48_197, failed: 0, badLines: 0, badLineSamples: [] }),
    LakeTablesQuery: athenaSucceeded,
    LoadLakeQuery: athenaSucceeded,
    LakeOutputsQuery: athenaSucceeded,
    NotifyDone: () => ({ MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyFailure: () => ({ MessageId: 'f0e1d2c3-ee98-5cb9-9903-4c221d41eb5e' }),
  };
}

/** GetQueryExecution of a query that succeeded, as `.sync` returns it. */
function athenaSucceeded(request: { QueryString: string }) {
  return {
    QueryExecution: {
      QueryExecutionId: '5b3c2d1e-8f7a-4b6c-9d0e-1f2a3b4c5d6e',
      Query: request.QueryString,
      Status: { State: 'SUCCEEDED' },
      Statistics: { DataScannedInBytes: 10_485_760 },
    },
  };
}

/** The states a run called, without the lake's queries (one call per query). */
const stepsCalled = (result: ExecutionResult): string[] =>
  result.calls
    .map((call) => call.state)
    .filter((state) => !/^(LakeTables|LoadLake|LakeOutputs)Query$/.test(state));

async function run(
  profile: Variant,
  responders: Record<string, Responder> = fakeAws(profile),
  options: { input?: unknown; startTime?: string } = { input: { day: DAY } },
): Promise<ExecutionResult> {
  const result = await runStateMachine(setup(profile).machine, {
    responders,
    executionName: 'daily-2025-03-15',
    ...options,
  });
  expect(result.harnessErrors).toEqual([]);
  expect(result.invalidRequests).toEqual([]);
  expect(result.invalidResponses).toEqual([]);
  return result;
}

const statesCalled = (result: ExecutionResult): string[] => result.calls.map((call) => call.state);
const payloadsOf = (result: ExecutionResult, state: string) =>
  result.calls.filter((call) => call.state === state).map((call) => JSON.parse(call.request.Payload));

function failureNotice(profile: Variant, error: string) {
  const { machine, topicArn } = setup(profile);
  return {
    state: 'NotifyFailure',
    topicArn,
    subject: 'Recommender ETL failed',
    message: {
      error,
      cause: expect.any(String),
      execution: `arn:aws:states:us-east-1:123456789012:execution:${machine.name}:daily-2025-03-15`,
    },
  };
}

describe.each(VARIANTS)('ETL pipeline (%s)', (profile) => {
  test('the app deploys no state machine besides the ETL and the training pipeline, both run by these tests', () => {
    const { app, machine } = setup(profile);
    const training = deployedStateMachine(app, app.stack(PipelineStack).pipeline.stateMachine);
    expect(
      deployedStateMachines(app)
        .map((deployed) => deployed.arn)
        .sort(),
    ).toEqual([machine.arn, training.arn].sort());
  });

  test('every Task parameter block, the item reader and the result writer match their API models', () => {
    expect(validateDefinitionStatically(setup(profile).machine.definition)).toEqual([]);
  });

  describe('GIVEN a day with two raw objects', () => {
    let result: ExecutionResult;
    beforeAll(async () => {
      result = await run(profile);
    });

    test('THEN it migrates, transforms each object, builds features, exports, ingests and notifies, in order', () => {
      expect(result.status).toBe('SUCCEEDED');
      expect(result.entered.filter((state) => !state.endsWith('Query'))).toEqual(
        ETL_STATES[onLake(profile) ? 'lake' : 'postgres'],
      );
      const calls = stepsCalled(result);
      expect(calls.slice(0, 3)).toEqual(['Migrate', 'TransformDay.ItemReader', 'TransformDay.ItemReader']);
      expect(calls.slice(-4)).toEqual(['BuildFeatures', 'ExportSnapshot', 'IngestFeatures', 'NotifyDone']);
      expect(calls.filter((state) => state === 'TransformObject')).toHaveLength(2);
    });

    test("THEN the map lists the day's prefix page by page and transforms each object of the raw bucket", () => {
      const { rawBucket } = setup(profile);
      const listings = result.calls.filter((call) => call.state === 'TransformDay.ItemReader');
      expect(listings.map((call) => call.request)).toEqual([
        { Bucket: rawBucket, Prefix: 'raw/2025/03/14/' },
        { Bucket: rawBucket, Prefix: 'raw/2025/03/14/', ContinuationToken: expect.any(String) },
      ]);
      expect(payloadsOf(result, 'TransformObject').sort((a, b) => a.key.localeCompare(b.key))).toEqual(
        OBJECTS.map((key) => ({ bucket: rawBucket, key, day: DAY })),
      );
      const [mapRun] = result.mapRuns;
      expect(mapRun.items).toEqual(OBJECTS.map((Key) => expect.objectContaining({ Key, Size: 4_812_331 })));
      expect(mapRun.children.map((child) => child.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    });

    test('THEN the results are written under the results prefix and the map passes on where', () => {
      const { artifactsBucket } = setup(profile);
      const [mapRun] = result.mapRuns;
      expect(mapRun.writes.map((write) => [write.Bucket, write.Key])).toEqual([
        [artifactsBucket, expect.stringMatching(/^etl-results\/[0-9a-f-]{36}\/SUCCEEDED_0\.json$/)],
        [artifactsBucket, expect.stringMatching(/^etl-results\/[0-9a-f-]{36}\/manifest\.json$/)],
      ]);
      const succeeded = mapRun.writes[0].Body as { Output: string; Status: string }[];
      expect(succeeded.map((record) => JSON.parse(record.Output).key).sort()).toEqual(OBJECTS);
      expect((result.output as { transform: unknown }).transform).toEqual({
        MapRunArn: mapRun.mapRunArn,
        ResultWriterDetails: { Bucket: artifactsBucket, Key: mapRun.writes[1].Key },
      });
    });

    test('THEN the features, snapshot and ingest steps get the planned dates and keys, and the day is published', () => {
      const { artifactsBucket, topicArn } = setup(profile);
      const { kAnonymity, favouritesHalfLifeDays } = artistRecommender.data;
      expect(payloadsOf(result, 'Migrate')).toEqual([{}]);
      const { lakeBucket } = setup(profile);
      expect(payloadsOf(result, 'BuildFeatures')).toEqual([
        {
          asOf: '2025-03-15T00:00:00.000Z',
          k: kAnonymity,
          halfLifeDays: favouritesHalfLifeDays,
          ...(onLake(profile) ? { engine: 'lake' } : {}),
        },
      ]);
      expect(payloadsOf(result, 'ExportSnapshot')).toEqual([
        {
          cutoff: '2025-03-08T00:00:00.000Z',
          validationEnd: '2025-03-15T00:00:00.000Z',
          k: kAnonymity,
          ...(onLake(profile) ? { lakeOutputs: `s3://${lakeBucket}/outputs/daily-2025-03-15/` } : {}),
        },
      ]);
      expect(payloadsOf(result, 'IngestFeatures')).toEqual([
        { bucket: artifactsBucket, key: 'snapshots/2025-03-08T00:00:00.000Z/features/user_features.jsonl' },
      ]);
      expect(result.published).toEqual([
        {
          state: 'NotifyDone',
          topicArn,
          subject: 'Recommender ETL finished',
          message: {
            day: DAY,
            snapshot: `s3://${artifactsBucket}/snapshots/2025-03-08T00:00:00.000Z/`,
            features: { feature_user_profile: 48_211, feature_user_top_artists: 412_930 },
            featureStore: { records: 48_197, failed: 0, badLines: 0, badLineSamples: [] },
          },
        },
      ]);
    });
  });

  test('on the lake path, the tables are created, the day is loaded and every output unloaded to the run', async () => {
    if (!onLake(profile)) {
      expect(setup(profile).lakeBucket).toBeUndefined();
      return;
    }
    const result = await run(profile);
    const { lakeBucket } = setup(profile);
    const queries = (state: string) =>
      result.calls
        .filter((call) => call.state === state)
        .map((call) => call.request as Record<string, unknown>);
    const all = ['LakeTablesQuery', 'LoadLakeQuery', 'LakeOutputsQuery'].flatMap(queries);
    for (const request of all) {
      expect(request.WorkGroup).toMatch(/lake/);
      expect(request.QueryExecutionContext).toEqual({
        Catalog: 'AwsDataCatalog',
        Database: expect.stringMatching(/lake/),
      });
    }
    const ddl = queries('LakeTablesQuery').map((r) => String(r.QueryString));
    expect(ddl).toHaveLength(7);
    expect(ddl.every((q) => /^CREATE (EXTERNAL )?TABLE IF NOT EXISTS /.test(q))).toBe(true);
    expect(ddl.filter((q) => q.includes("'table_type' = 'ICEBERG'"))).toHaveLength(3);
    expect(ddl.join('\n')).toContain(`LOCATION 's3://${lakeBucket}/tables/events/'`);

    const loads = queries('LoadLakeQuery').map((r) => String(r.QueryString));
    expect(loads.map((q) => q.split(' ').slice(0, 3).join(' ')).sort()).toEqual([
      'INSERT INTO events',
      'INSERT INTO feedback',
      'INSERT INTO served_items',
    ]);
    for (const q of loads) {
      expect(q).toContain(`st.day = '${DAY}'`);
      expect(q).not.toMatch(/\{\{/);
    }

    const outputs = queries('LakeOutputsQuery').map((r) => String(r.QueryString));
    expect(outputs).toHaveLength(8);
    for (const q of outputs) {
      expect(q).toMatch(
        new RegExp(
          `^UNLOAD \\([\\s\\S]+\\) TO 's3://${lakeBucket}/outputs/daily-2025-03-15/(features|snapshot)/\\w+/' WITH \\(format = 'JSON'\\)$`,
        ),
      );
      expect(q).not.toMatch(/\{\{/);
    }
    const topArtists = outputs.find((q) => q.includes('/features/top_artists/')) as string;
    expect(topArtists).toContain("e.ts < TIMESTAMP '2025-03-15 00:00:00.000'");
    expect(topArtists).toContain(`CAST(${artistRecommender.data.favouritesHalfLifeDays} AS double)`);
    expect(outputs.find((q) => q.includes('/snapshot/train_interactions/'))).toContain(
      "ts < TIMESTAMP '2025-03-08 00:00:00.000'",
    );
    expect((result.output as { lakeOutputs: unknown[] }).lakeOutputs).toHaveLength(8);
  });

  test('WHEN the day would break out of its SQL literal THEN the run fails before any query', async () => {
    const result = await run(profile, fakeAws(profile, []), { input: { day: "2025-03-14' OR '1'='1" } });
    expect(result.status).toBe('FAILED');
    expect(result.calls.map((call) => call.state)).not.toContain('LoadLakeQuery');
    expect(result.calls.map((call) => call.state)).not.toContain('TransformObject');
  });

  test.each([
    ['in the middle of a month', '2025-03-15T01:00:00.000Z', '2025-03-14'],
    ['on the first of a month after a leap day', '2024-03-01T01:00:00.000Z', '2024-02-29'],
    ['just after midnight on New Year', '2026-01-01T00:00:05.000Z', '2025-12-31'],
  ])(
    'WHEN started without a day %s THEN it processes the day before the start',
    async (_when, startTime, day) => {
      const result = await run(profile, fakeAws(profile, []), { input: {}, startTime });
      const [listing] = result.calls.filter((call) => call.state === 'TransformDay.ItemReader');
      expect(listing.request.Prefix).toBe(`raw/${day.replace(/-/g, '/')}/`);
      expect(payloadsOf(result, 'BuildFeatures')[0].asOf).toBe(
        new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString(),
      );
      expect(result.published[0].message).toMatchObject({ day });
    },
  );

  test('WHEN given a day THEN the start time does not matter', async () => {
    const result = await run(profile, fakeAws(profile, []), {
      input: { day: '2025-01-31' },
      startTime: '2025-06-01T01:00:00Z',
    });
    expect(result.calls.find((call) => call.state === 'TransformDay.ItemReader')?.request.Prefix).toBe(
      'raw/2025/01/31/',
    );
    expect(payloadsOf(result, 'ExportSnapshot')[0]).toMatchObject({
      cutoff: '2025-01-25T00:00:00.000Z',
      validationEnd: '2025-02-01T00:00:00.000Z',
    });
  });

  test('WHEN the day has no raw objects THEN the map transforms nothing and the run still finishes', async () => {
    const result = await run(profile, fakeAws(profile, []));
    expect(result.status).toBe('SUCCEEDED');
    expect(statesCalled(result)).not.toContain('TransformObject');
    expect(result.mapRuns[0].items).toEqual([]);
    expect(result.mapRuns[0].writes.map((write) => write.Key)).toEqual([
      expect.stringMatching(/manifest\.json$/),
    ]);
    expect(stepsCalled(result).slice(-4)).toEqual([
      'BuildFeatures',
      'ExportSnapshot',
      'IngestFeatures',
      'NotifyDone',
    ]);
  });

  test('WHEN the paused database is unavailable for the first tries THEN the object is retried and the run succeeds', async () => {
    const responders = fakeAws(profile);
    const transform = responders.TransformObject;
    responders.TransformObject = (request, call) => {
      if (call.mapItem === 0 && call.attempt <= 3) {
        throw lambdaFunctionError('DatabaseUnavailableError', 'the database is resuming from a pause');
      }
      return transform(request, call);
    };
    const result = await run(profile, responders);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.retried).toEqual([
      { state: 'TransformObject', error: 'DatabaseUnavailableError', mapItem: 0 },
      { state: 'TransformObject', error: 'DatabaseUnavailableError', mapItem: 0 },
      { state: 'TransformObject', error: 'DatabaseUnavailableError', mapItem: 0 },
    ]);
    expect(
      result.calls.filter((call) => call.state === 'TransformObject' && call.mapItem === 0),
    ).toHaveLength(4);
    expect(result.mapRuns[0].children.map((child) => child.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  test('WHEN the database stays unavailable past the retries THEN the map fails and the run ends in the failure path', async () => {
    const responders = fakeAws(profile);
    const transform = responders.TransformObject;
    responders.TransformObject = (request, call) => {
      if (call.mapItem === 1)
        throw lambdaFunctionError('DatabaseUnavailableError', 'the database is resuming from a pause');
      return transform(request, call);
    };
    const result = await run(profile, responders);
    // The first call and MaxAttempts (4) retries.
    expect(
      result.calls.filter((call) => call.state === 'TransformObject' && call.mapItem === 1),
    ).toHaveLength(5);
    expectMapFailure(profile, result, 'DatabaseUnavailableError');
  });

  test('WHEN one object fails to transform THEN the map fails (no failure tolerated) and so does the run', async () => {
    const responders = fakeAws(profile);
    const transform = responders.TransformObject;
    responders.TransformObject = (request, call) => {
      if (call.mapItem === 0) throw lambdaFunctionError('Error', 'unexpected end of file (gunzip)');
      return transform(request, call);
    };
    const result = await run(profile, responders);
    // Not a retryable error: one call only.
    expect(
      result.calls.filter((call) => call.state === 'TransformObject' && call.mapItem === 0),
    ).toHaveLength(1);
    expectMapFailure(profile, result, 'Error');
  });

  test('WHEN the feature store ingest fails THEN the run fails before the success notice', async () => {
    const responders = fakeAws(profile);
    responders.IngestFeatures = () => {
      throw lambdaFunctionError(
        'IngestFailedError',
        '37 of 48197 records refused by the Feature Store after retries',
      );
    };
    const result = await run(profile, responders);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('IngestFailedError');
    expect(JSON.parse(result.cause as string)).toMatchObject({ errorType: 'IngestFailedError' });
    expect(result.entered.slice(-4)).toEqual([
      'IngestFeatures',
      'RecordFailure',
      'NotifyFailure',
      'PipelineFailed',
    ]);
    expect(statesCalled(result)).not.toContain('NotifyDone');
    expect(result.published).toEqual([failureNotice(profile, 'IngestFailedError')]);
  });

  test('WHEN Lambda throttles the migration THEN it is retried and the run goes on', async () => {
    const responders = fakeAws(profile);
    const migrate = responders.Migrate;
    responders.Migrate = (request, call) => {
      if (call.attempt <= 2) throw serviceError('Lambda.TooManyRequestsException', 'Rate exceeded');
      return migrate(request, call);
    };
    const result = await run(profile, responders);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.retried).toEqual([
      { state: 'Migrate', error: 'Lambda.TooManyRequestsException' },
      { state: 'Migrate', error: 'Lambda.TooManyRequestsException' },
    ]);
  });

  test('WHEN the raw bucket cannot be listed THEN the map fails with States.ItemReaderFailed', async () => {
    const responders = fakeAws(profile);
    responders['TransformDay.ItemReader'] = () => {
      throw serviceError('S3.AccessDeniedException', 'Access Denied');
    };
    const result = await run(profile, responders);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.ItemReaderFailed');
    expect(statesCalled(result)).not.toContain('TransformObject');
    expect(result.published).toEqual([failureNotice(profile, 'States.ItemReaderFailed')]);
  });
});

describe.each(['sandbox/lake', 'production/lake'] as const)(
  'ETL lake queries fail or throttle (%s)',
  (profile) => {
    test('WHEN a load query fails THEN the run fails before any output or snapshot, and says so', async () => {
      const responders = fakeAws(profile);
      responders.LoadLakeQuery = () => {
        // What the .sync integration raises when the query ends FAILED.
        throw new StepFunctionsError(
          'States.TaskFailed',
          'ICEBERG_COMMIT_ERROR: Failed to commit Iceberg update',
        );
      };
      const result = await run(profile, responders);
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('States.TaskFailed');
      expect(result.caught).toEqual([{ state: 'LoadLake', error: 'States.TaskFailed' }]);
      const called = result.calls.map((call) => call.state);
      expect(called).not.toContain('BuildFeatures');
      expect(called).not.toContain('LakeOutputsQuery');
      expect(called).not.toContain('ExportSnapshot');
      expect(result.published).toEqual([failureNotice(profile, 'States.TaskFailed')]);
    });

    test('WHEN Athena refuses a query over its concurrency limit THEN it is retried and the run goes on', async () => {
      const responders = fakeAws(profile);
      const answer = responders.LakeOutputsQuery;
      responders.LakeOutputsQuery = (request, call) => {
        if (call.attempt === 1) throw serviceError('Athena.TooManyRequestsException', 'Rate exceeded');
        return answer(request, call);
      };
      const result = await run(profile, responders);
      expect(result.status).toBe('SUCCEEDED');
      // The first call is refused and retried; every output is still unloaded once.
      expect(result.retried.filter((r) => r.state === 'LakeOutputsQuery')).toEqual([
        { state: 'LakeOutputsQuery', error: 'Athena.TooManyRequestsException' },
      ]);
      expect(result.calls.filter((call) => call.state === 'LakeOutputsQuery')).toHaveLength(9);
      expect((result.output as { lakeOutputs: unknown[] }).lakeOutputs).toHaveLength(8);
    });
  },
);

function expectMapFailure(profile: Variant, result: ExecutionResult, childError: string): void {
  expect(result.status).toBe('FAILED');
  expect(result.error).toBe('States.ExceedToleratedFailureThreshold');
  expect(result.cause).toContain(childError);
  expect(result.caught).toEqual([{ state: 'TransformDay', error: 'States.ExceedToleratedFailureThreshold' }]);
  expect(result.entered.slice(-4)).toEqual([
    'TransformDay',
    'RecordFailure',
    'NotifyFailure',
    'PipelineFailed',
  ]);
  expect(statesCalled(result)).not.toContain('BuildFeatures');
  expect(result.published).toEqual([failureNotice(profile, 'States.ExceedToleratedFailureThreshold')]);
}

describe('the lake path with its queries run on the local engine', () => {
  const work = mkdtempSync(join(tmpdir(), 'etl-lake-'));
  let lake: LocalLake;
  let athena: AthenaOnDuckDb;
  let result: ExecutionResult;
  let staged: number;

  beforeAll(async () => {
    // One generated day, staged by the real transform handler as the map's children stage it.
    const data = join(work, 'data');
    generateData({ users: 60, days: 1, out: data, seed: 5, end: '2025-03-15', duplicateRate: 0.02 });
    const transformed = await transformDirectory(
      data,
      rawKeys(data),
      {
        EVENT_STORE: 'lake',
        LAKE_BUCKET: 'lake',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
      Date.parse('2025-03-15T01:00:00Z'),
    );
    staged = transformed.totals.clean;
    lake = await LocalLake.open(
      join(work, 'lake'),
      join(__dirname, '..', '..', '..', '..', 'sql', 'artist-recommender', 'lake'),
    );
    for (const [key, body] of transformed.quarantine) {
      const match = /^staging\/(\w+)\/day=(\d{4}-\d{2}-\d{2})\/(.+)$/.exec(key);
      if (!match) continue;
      const dir = lake.stagingDir(match[2], match[1] as 'events');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, match[3]), body);
    }
    athena = athenaOnDuckDb(lake, join(work, 's3'));
    const responders = fakeAws('sandbox/lake', []);
    for (const state of ['LakeTablesQuery', 'LoadLakeQuery', 'LakeOutputsQuery'])
      responders[state] = athena.responder;
    result = await run('sandbox/lake', responders);
  }, 120_000);

  afterAll(() => {
    lake?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('THEN the rendered loads add every staged line once and the outputs hold the features', async () => {
    expect(result.status).toBe('SUCCEEDED');
    expect(athena.statements.filter((q) => q.startsWith('CREATE'))).toHaveLength(7);
    const stored = await lake.select(
      `SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM feedback)
              + (SELECT count(DISTINCT request_id) FROM served_items) AS n`,
    );
    // Lines repeated across objects are clean in each object; the load keeps one of each key.
    const keys = await lake.select(
      `SELECT (SELECT count(DISTINCT event_id) FROM staging_events) + (SELECT count(DISTINCT event_id) FROM staging_feedback)
              + (SELECT count(DISTINCT request_id) FROM staging_served_items) AS n`,
    );
    expect(stored[0].n).toBe(keys[0].n);
    expect(staged).toBeGreaterThan(Number(keys[0].n));
    expect(athena.inserted.events).toBeGreaterThan(500);
    const { lakeBucket } = setup('sandbox/lake');
    const prefix = `s3://${lakeBucket}/outputs/daily-2025-03-15/`;
    expect(Object.keys(athena.unloaded).sort()).toEqual(
      LAKE_OUTPUTS.map((output) => `${prefix}${output}/`).sort(),
    );
    expect(athena.unloaded[`${prefix}features/top_artists/`]).toBeGreaterThan(50);
    expect(athena.unloaded[`${prefix}features/feedback_labels/`]).toBeGreaterThan(0);
    expect(payloadsOf(result, 'ExportSnapshot')[0].lakeOutputs).toBe(prefix);
  });
});
