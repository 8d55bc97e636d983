/**
 * The event transform's routing of the service's own lines against a real PostgreSQL: a
 * `recommendation` line becomes one served_items row per item, a `feedback` line one feedback row;
 * repeats are dropped by each table's primary key, within an object and across objects, and every
 * line is loaded, quarantined with a reason, or counted as a duplicate.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { startPostgres, type LocalPostgres } from '../../../../support/postgres';
import { migrate, readMigrations } from '../../../../../lambda/platform/db-migrate/migrate';
import { handleTransform } from '../../../../../lambda/artist-recommender/event-transform/handler';
import { feedbackEventId } from '../../../../../lib/designs/artist-recommender/contracts/events';
import { NOW, validEvent } from '../events/fixtures';

const SQL = join(__dirname, '..', '..', '..', '..', '..', 'sql', 'artist-recommender');
const SERVED_AT = new Date(NOW - 3_600_000).toISOString();
const s3 = apiCheckedMockClient(S3Client);
let pg: LocalPostgres;
let db: Client;
let env: NodeJS.ProcessEnv;

function recommendation(requestId: string, artists: string[], overrides: Record<string, unknown> = {}) {
  return JSON.stringify({
    event_type: 'recommendation',
    event_id: requestId,
    request_id: requestId,
    user_id: 'u1',
    variant: 'champion',
    model_version: 'model-7',
    source: 'cache',
    items: artists.map((artist_id, i) => ({ artist_id, position: i + 1, score: 0.9 - i * 0.25 })),
    ts: SERVED_AT,
    ...overrides,
  });
}

function feedback(
  requestId: string,
  artistId: string,
  clicked: boolean,
  overrides: Record<string, unknown> = {},
) {
  return JSON.stringify({
    event_type: 'feedback',
    event_id: feedbackEventId(requestId, artistId, clicked),
    request_id: requestId,
    user_id: 'u1',
    artist_id: artistId,
    clicked,
    variant: 'champion',
    ts: new Date(NOW - 1_800_000).toISOString(),
    ...overrides,
  });
}

async function transform(key: string, lines: string[]) {
  s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([gzipSync(lines.join('\n') + '\n')]) }));
  s3.on(PutObjectCommand).resolves({});
  return handleTransform(
    { bucket: 'raw-bucket', key },
    env,
    new S3Client({ region: 'us-east-1' }),
    () => NOW,
  );
}

beforeAll(async () => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  pg = await startPostgres();
  db = new Client(await pg.createDatabase('feedback_load'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
  env = pg.env('feedback_load');
});

afterAll(async () => {
  await db?.end();
  pg?.stop();
});

beforeEach(() => s3.reset());

describe('event transform: served lists and feedback', () => {
  it('loads a served list as one row per item and feedback as one row each, and conserves counts', async () => {
    const result = await transform('raw/2026/03/01/11/mixed.gz', [
      recommendation('r1', ['a1', 'a2', 'a3']),
      // The same list again, and a list under the same request id with another event id: repeats.
      recommendation('r1', ['a1', 'a2', 'a3']),
      recommendation('r1', ['a9'], { event_id: 'r1-again' }),
      feedback('r1', 'a1', true),
      feedback('r1', 'a1', true),
      feedback('r1', 'a2', false, { variant: null }),
      JSON.stringify(validEvent(1, { event_id: 'click-1', request_id: 'r1' })),
      // Positions must run 1, 2, 3; a feedback id must be the hash of its request, artist and click.
      recommendation('r2', ['a1', 'a2'], {
        items: [
          { artist_id: 'a1', position: 1, score: 0.5 },
          { artist_id: 'a2', position: 3, score: 0.4 },
        ],
      }),
      feedback('r1', 'a3', true, { event_id: 'fb-123' }),
      // A client may never send these kinds, but the service writes them in any case.
      recommendation('r3', ['a4'], { event_type: ' Recommendation ', source: 'MODEL' }),
    ]);
    expect(result).toMatchObject({
      input: 10,
      clean: 5,
      duplicates: 3,
      quarantined: 2,
      loaded: 5,
      recommendations: 2,
      feedback: 2,
      loadedRecommendations: 2,
      loadedServedItems: 4,
      loadedFeedback: 2,
    });
    expect(result.input).toBe(result.clean + result.duplicates + result.quarantined);
    const quarantine = gunzipSync(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as Buffer)
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(quarantine.map((r) => [r.line, r.reason, r.field])).toEqual([
      [8, 'invalid_position', 'items[1].position'],
      [9, 'invalid_id', 'event_id'],
    ]);

    const served = await db.query(
      `SELECT request_id, position, user_id, artist_id, variant, model_version, source, score,
              to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts, source_key
         FROM served_items ORDER BY request_id, position`,
    );
    const row = { user_id: 'u1', variant: 'champion', model_version: 'model-7', ts: SERVED_AT };
    const key = 's3://raw-bucket/raw/2026/03/01/11/mixed.gz';
    expect(served.rows).toEqual([
      {
        ...row,
        request_id: 'r1',
        position: 1,
        artist_id: 'a1',
        source: 'cache',
        score: 0.9,
        source_key: key,
      },
      {
        ...row,
        request_id: 'r1',
        position: 2,
        artist_id: 'a2',
        source: 'cache',
        score: 0.65,
        source_key: key,
      },
      {
        ...row,
        request_id: 'r1',
        position: 3,
        artist_id: 'a3',
        source: 'cache',
        score: 0.4,
        source_key: key,
      },
      {
        ...row,
        request_id: 'r3',
        position: 1,
        artist_id: 'a4',
        source: 'model',
        score: 0.9,
        source_key: key,
      },
    ]);
    const stored = await db.query(
      `SELECT event_id, request_id, artist_id, clicked, variant FROM feedback ORDER BY artist_id`,
    );
    expect(stored.rows).toEqual([
      {
        event_id: feedbackEventId('r1', 'a1', true),
        request_id: 'r1',
        artist_id: 'a1',
        clicked: true,
        variant: 'champion',
      },
      {
        event_id: feedbackEventId('r1', 'a2', false),
        request_id: 'r1',
        artist_id: 'a2',
        clicked: false,
        variant: null,
      },
    ]);
    expect(
      (await db.query(`SELECT count(*)::int AS n FROM events WHERE event_id = 'click-1'`)).rows[0].n,
    ).toBe(1);
  });

  it('loads a resent list or feedback in a later object once, and never merges two lists of one request', async () => {
    const result = await transform('raw/2026/03/01/12/later.gz', [
      recommendation('r1', ['a5', 'a6', 'a7', 'a8']),
      feedback('r1', 'a1', true),
      feedback('r1', 'a3', true),
    ]);
    expect(result).toMatchObject({
      input: 3,
      clean: 3,
      duplicates: 0,
      quarantined: 0,
      loaded: 1,
      recommendations: 1,
      feedback: 2,
      loadedRecommendations: 0,
      loadedServedItems: 0,
      loadedFeedback: 1,
    });
    const r1 = await db.query(`SELECT artist_id FROM served_items WHERE request_id = 'r1' ORDER BY position`);
    expect(r1.rows.map((r) => r.artist_id)).toEqual(['a1', 'a2', 'a3']);
    // Retrying the whole object changes nothing.
    const again = await transform('raw/2026/03/01/12/later.gz', [
      recommendation('r1', ['a5', 'a6', 'a7', 'a8']),
      feedback('r1', 'a1', true),
      feedback('r1', 'a3', true),
    ]);
    expect(again).toMatchObject({ clean: 3, loaded: 0, loadedServedItems: 0, loadedFeedback: 0 });
  });

  it('keeps a score exactly as the double that was sent', async () => {
    const scores = [1e-7, -1, 1, 0.1 + 0.2, -0.30000000000000004, 2 ** -40];
    await transform('raw/2026/03/01/13/scores.gz', [
      recommendation('r-scores', ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'], {
        items: scores.map((score, i) => ({ artist_id: `b${i + 1}`, position: i + 1, score })),
      }),
    ]);
    const { rows } = await db.query(
      `SELECT score FROM served_items WHERE request_id = 'r-scores' ORDER BY position`,
    );
    expect(rows.map((r) => r.score)).toEqual(scores);
  });
});
