/**
 * The offline twin of the ETL (`npm run recommender:channels`, sagemaker/artist_recommender/
 * channels.py) and the ETL itself (event transform -> PostgreSQL -> snapshot export) turn the same
 * raw data into byte-identical training channels: interactions, users and the feedback labels,
 * with the same counts of every line and of the unmatched feedback.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { startPostgres, type LocalPostgres } from '../../../support/postgres';
import { migrate, readMigrations } from '../../../../lambda/platform/db-migrate/migrate';
import {
  DEFAULT_IMPORT_OPTIONS,
  importAccounts,
} from '../../../../lambda/artist-recommender/accounts-import/import';
import { emptyCounts } from '../../../../lambda/artist-recommender/event-transform/classify';
import { transformObject } from '../../../../lambda/artist-recommender/event-transform/transform';
import { exportSnapshot, SNAPSHOT_FILES } from '../../../../lambda/artist-recommender/snapshot/export';
import { feedbackEventId } from '../../../../lib/designs/artist-recommender/contracts/events';
import {
  generateData,
  rawKeys,
  type GenerateSummary,
} from '../../../../scripts/artist-recommender/generate-data';

const ROOT = join(__dirname, '..', '..', '..', '..');
const SQL = join(ROOT, 'sql', 'artist-recommender');
const DAY = 86_400_000;
const DAYS = 5;
const K = 5;
let pg: LocalPostgres;
let db: Client;
let work: string;
let summary: GenerateSummary;

/**
 * Lines the generator does not write: odd score spellings, a list served long before its feedback
 * (expired_request), a click event labelling a served item, feedback on an artist the list did not
 * hold, a list repeated under a new event id, a service kind in odd case, and a bad list.
 */
function edgeLines(start: number): string[] {
  const served = new Date(start - 3 * DAY).toISOString();
  const fb = (artist: string, clicked: boolean, at: number) =>
    JSON.stringify({
      event_type: 'feedback',
      event_id: feedbackEventId('edge-old', artist, clicked),
      request_id: 'edge-old',
      user_id: 'u1',
      artist_id: artist,
      clicked,
      ts: new Date(at).toISOString(),
    });
  const list = (eventId: string, items: string) =>
    `{"event_type":"recommendation","event_id":"${eventId}","request_id":"edge-old","user_id":"u1",` +
    `"variant":"champion","model_version":"m-edge","source":"model","items":${items},"ts":"${served}"}`;
  return [
    list(
      'edge-old',
      '[{"artist_id":"e1","position":1,"score":1.0},{"artist_id":"e2","position":2,"score":-0.0},' +
        '{"artist_id":"e3","position":3,"score":1E-7},{"artist_id":"e4","position":4.0,"score":-0.30000000000000004}]',
    ),
    list('edge-old-again', '[{"artist_id":"x1","position":1,"score":0.5}]'),
    fb('e1', true, start + 4.5 * DAY),
    fb('e2', true, start - 3 * DAY + 3_600_000),
    fb('e9', false, start),
    JSON.stringify({
      event_id: 'edge-click',
      user_id: 'u1',
      item_id: 'e3',
      request_id: 'edge-old',
      variant: 'champion',
      event_type: 'click',
      item_type: 'artist',
      ts: new Date(start - 3 * DAY + 7_200_000).toISOString(),
    }),
    `{"event_type":" FEEDBACK ","event_id":"${feedbackEventId('edge-old', 'e4', true)}","request_id":"edge-old",` +
      `"user_id":"u1","artist_id":"e4","clicked":true,"variant":null,"ts":"${new Date(start).toISOString()}"}`,
    `{"event_type":"recommendation","event_id":"edge-bad","request_id":"edge-bad","user_id":"u1","variant":"v",` +
      `"model_version":"m","source":"cache","items":[{"artist_id":"a1","position":2,"score":0.1}],"ts":"${served}"}`,
  ];
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'channels-parity-'));
  summary = generateData({ users: 150, days: DAYS, out: join(work, 'data'), seed: 3 });
  const start = Date.parse(summary.start);
  const edgeDir = join(work, 'data', 'raw', new Date(start).toISOString().slice(0, 13).replace(/[-T]/g, '/'));
  mkdirSync(edgeDir, { recursive: true });
  writeFileSync(join(edgeDir, 'zz-edge.gz'), gzipSync(edgeLines(start).join('\n') + '\n'));
  pg = await startPostgres();
  db = new Client(await pg.createDatabase('parity'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
}, 120_000);

afterAll(async () => {
  await db?.end();
  pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('recommender:channels and the ETL', () => {
  it('write byte-identical channels, feedback included, from the same raw data', async () => {
    const data = join(work, 'data');
    const end = Date.parse(summary.end);
    // e2e:local's and channels.py's choice: the last fifth of the days validate; "now" is an hour
    // after the end.
    const cutoff = new Date(end - Math.max(1, Math.round(DAYS / 5)) * DAY);
    const now = end + 3_600_000;
    await importAccounts(db, createReadStream(join(data, 'accounts.csv')), {
      ...DEFAULT_IMPORT_OPTIONS,
      now,
    });
    const totals = emptyCounts();
    const reasons: Record<string, number> = {};
    for (const key of rawKeys(data)) {
      const { counts, quarantine } = await transformObject(createReadStream(join(data, key)), db, key, {
        now,
        maxLineBytes: 65_536,
        maxAgeMs: 365 * DAY,
        maxFutureSkewMs: 300_000,
      });
      for (const name of Object.keys(totals) as (keyof typeof totals)[]) totals[name] += counts[name];
      if (quarantine.length === 0) continue;
      for (const line of gunzipSync(quarantine).toString('utf8').trimEnd().split('\n')) {
        const { reason } = JSON.parse(line) as { reason: string };
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
    }
    const etl = join(work, 'etl');
    const manifest = await exportSnapshot(db, etl, { cutoff, k: K });

    const offline = join(work, 'offline');
    const run = spawnSync(
      join(ROOT, 'sagemaker', 'bin', 'py'),
      ['-m', 'artist_recommender.channels', '--raw', data, '--out', offline, '--k', String(K), '--quiet'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const twin = JSON.parse(readFileSync(join(offline, 'manifest.json'), 'utf8'));

    expect(twin.cutoff).toBe(cutoff.toISOString());
    for (const file of Object.values(SNAPSHOT_FILES)) {
      expect([file, readFileSync(join(offline, file)).equals(readFileSync(join(etl, file)))]).toEqual([
        file,
        true,
      ]);
      expect([file, twin.files[file]]).toEqual([file, manifest.files[file]]);
    }
    expect(twin.suppressedUsers).toBe(manifest.suppressedUsers);
    expect(twin.unmatchedFeedback).toEqual(manifest.unmatchedFeedback);

    // The planted unmatched feedback and the edge lines: one expired, one more unknown item.
    expect(manifest.unmatchedFeedback).toEqual({
      unknown_request: summary.feedback.unknownRequest,
      unknown_item: summary.feedback.unknownItem + 1,
      expired_request: 1,
    });
    const labelled =
      manifest.files[SNAPSHOT_FILES.trainFeedback].rows +
      manifest.files[SNAPSHOT_FILES.validationFeedback].rows;
    expect(labelled).toBe(summary.servedItems + 4);
    expect(manifest.files[SNAPSHOT_FILES.validationFeedback].rows).toBeGreaterThan(0);
    const edge = readFileSync(join(etl, SNAPSHOT_FILES.trainFeedback), 'utf8')
      .split('\n')
      .filter((line) => line.includes(',edge-old,'));
    // e1 clicked 7.5 days later (expired), e2 by feedback, e3 by a click event, e4 by feedback.
    expect(edge.map((line) => line.split(',').slice(1, 8).join(','))).toEqual([
      'e1,edge-old,1,1,champion,m-edge,0',
      'e2,edge-old,2,0,champion,m-edge,1',
      'e3,edge-old,3,1e-07,champion,m-edge,1',
      'e4,edge-old,4,-0.30000000000000004,champion,m-edge,1',
    ]);

    // Every line is accounted for alike: loaded, a repeat, or rejected with the same reason.
    const python = spawnSync(
      join(ROOT, 'sagemaker', 'bin', 'py'),
      [
        '-c',
        'import json,sys; from artist_recommender import channels; ' +
          'print(json.dumps(channels.build(sys.argv[1], sys.argv[2], k=int(sys.argv[3]))[1]))',
        data,
        join(work, 'again'),
        String(K),
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(python.status).toBe(0);
    const counts = JSON.parse(python.stdout);
    expect(totals.input).toBe(totals.clean + totals.duplicates + totals.quarantined);
    expect(counts.lines).toBe(totals.input);
    expect(counts.events).toBe(totals.loaded);
    expect(counts.duplicates).toBe(totals.duplicates + totals.clean - totals.loaded);
    expect(counts.rejected).toEqual(reasons);
    expect(reasons.invalid_position).toBe(1);
    expect(counts.recommendations).toBe(totals.loadedRecommendations);
    expect(counts.feedback).toBe(totals.loadedFeedback);
  }, 240_000);
});
