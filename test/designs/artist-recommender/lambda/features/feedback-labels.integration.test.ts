/**
 * Click labels of served items and the flags of unmatched feedback (migrations/006_feedback_labels.sql),
 * as the feature build stores them and the snapshot exports them (train/ and validation/
 * feedback.csv), against a real PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startPostgres, type LocalPostgres } from '../../../../support/postgres';
import { migrate, readMigrations } from '../../../../../lambda/platform/db-migrate/migrate';
import { buildFeatures } from '../../../../../lambda/artist-recommender/features/build';
import { exportSnapshot, SNAPSHOT_FILES } from '../../../../../lambda/artist-recommender/snapshot/export';
import { feedbackEventId } from '../../../../../lib/designs/artist-recommender/contracts/events';

const SQL = join(__dirname, '..', '..', '..', '..', '..', 'sql', 'artist-recommender');
const CUTOFF = Date.parse('2026-02-15T00:00:00Z');
const T0 = Date.parse('2026-02-10T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HEADER = 'user_id,item_id,request_id,position,shown_score,variant,model_version,clicked,ts\n';
let pg: LocalPostgres;
let db: Client;
const dirs: string[] = [];

const iso = (ms: number) => new Date(ms).toISOString();

async function serve(requestId: string, user: string, at: number, items: [string, number][]) {
  for (const [i, [artist, score]] of items.entries()) {
    await db.query(
      `INSERT INTO served_items (request_id, position, user_id, artist_id, variant, model_version, source, score, ts)
       VALUES ($1, $2, $3, $4, 'champion', 'm1', 'cache', $5, $6)`,
      [requestId, i + 1, user, artist, score, iso(at)],
    );
  }
}

async function feedback(requestId: string, user: string, artist: string, clicked: boolean, at: number) {
  await db.query(
    `INSERT INTO feedback (event_id, request_id, user_id, artist_id, clicked, variant, ts)
     VALUES ($1, $2, $3, $4, $5, NULL, $6)`,
    [feedbackEventId(requestId, artist, clicked), requestId, user, artist, clicked, iso(at)],
  );
}

async function click(requestId: string, user: string, artist: string, at: number) {
  await db.query(
    `INSERT INTO events (event_id, user_id, event_type, item_type, item_id, ts, request_id, variant)
     VALUES ($1, $2, 'click', 'artist', $3, $4, $5, 'champion')`,
    [`click-${requestId}-${artist}`, user, artist, iso(at), requestId],
  );
}

function outDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'feedback-snapshot-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  pg = await startPostgres();
  db = new Client(await pg.createDatabase('labels'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
  // r1 before the cutoff, r2 after it, r-old ten days before its feedback.
  await serve('r1', 'u1', T0, [
    ['a1', 0.9],
    ['a2', 0.5],
    ['a3', -0.25],
  ]);
  await serve('r2', 'u2', CUTOFF + HOUR, [
    ['a1', 0.7],
    ['a4', 1e-7],
  ]);
  await serve('r-old', 'u3', T0 - 10 * DAY, [['a5', 0.3]]);
  await feedback('r1', 'u1', 'a1', true, T0 + 60_000); // clicked
  await feedback('r1', 'u1', 'a2', false, T0 + 60_000); // shown, not clicked: matched, label 0
  await click('r1', 'u1', 'a3', T0 + 120_000); // a click event labels as a feedback does
  await feedback('r2', 'u2', 'a4', true, CUTOFF + 2 * HOUR);
  await feedback('r-unknown', 'u1', 'a1', true, T0 + HOUR); // unknown_request
  await feedback('r1', 'u1', 'a9', true, T0 + HOUR); // unknown_item
  await feedback('r-old', 'u3', 'a5', true, T0); // expired_request: served 10 days before
});

afterAll(async () => {
  await db?.end();
  pg?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('feedback labels and unmatched feedback', () => {
  it('labels every served item 1/0 and flags each unmatched feedback with its reason', async () => {
    const run = await buildFeatures(db, join(SQL, 'features'), {
      asOf: new Date(CUTOFF + DAY),
      k: 1,
      halfLifeDays: 14,
    });
    const labels = await db.query(
      `SELECT request_id, position, artist_id, clicked FROM feature_feedback_labels
        ORDER BY request_id COLLATE "C", position`,
    );
    expect(labels.rows.map((r) => [r.request_id, r.position, r.artist_id, r.clicked])).toEqual([
      ['r-old', 1, 'a5', 0],
      ['r1', 1, 'a1', 1],
      ['r1', 2, 'a2', 0],
      ['r1', 3, 'a3', 1],
      ['r2', 1, 'a1', 0],
      ['r2', 2, 'a4', 1],
    ]);
    const flagged = await db.query(
      `SELECT request_id, artist_id, reason FROM feature_unmatched_feedback ORDER BY reason`,
    );
    expect(flagged.rows).toEqual([
      { request_id: 'r-old', artist_id: 'a5', reason: 'expired_request' },
      { request_id: 'r1', artist_id: 'a9', reason: 'unknown_item' },
      { request_id: 'r-unknown', artist_id: 'a1', reason: 'unknown_request' },
    ]);
    expect(run.unmatchedFeedback).toEqual({ unknown_request: 1, unknown_item: 1, expired_request: 1 });
    expect(run.rows).toMatchObject({ feature_feedback_labels: 6, feature_unmatched_feedback: 3 });
    // The label totals per user: u1 (who has an event) clicked two of the three items shown.
    const u1 = await db.query(
      `SELECT positives, negatives FROM feature_user_interactions WHERE user_id = 'u1'`,
    );
    expect(u1.rows).toEqual([{ positives: 2, negatives: 1 }]);
  });

  it('builds point in time: a list served at or after as_of is not known yet', async () => {
    const run = await buildFeatures(db, join(SQL, 'features'), {
      asOf: new Date(CUTOFF),
      k: 1,
      halfLifeDays: 14,
    });
    expect(run.rows.feature_feedback_labels).toBe(4);
    // r2's feedback came after the cutoff too, so nothing about r2 is flagged either.
    expect(run.unmatchedFeedback).toEqual({ unknown_request: 1, unknown_item: 1, expired_request: 1 });
    await db.query(`UPDATE feedback SET ts = $1 WHERE request_id = 'r2'`, [iso(CUTOFF - HOUR)]);
    try {
      const early = await buildFeatures(db, join(SQL, 'features'), {
        asOf: new Date(CUTOFF),
        k: 1,
        halfLifeDays: 14,
      });
      expect(early.unmatchedFeedback).toEqual({ unknown_request: 2, unknown_item: 1, expired_request: 1 });
    } finally {
      await db.query(`UPDATE feedback SET ts = $1 WHERE request_id = 'r2'`, [iso(CUTOFF + 2 * HOUR)]);
    }
  });

  it('labels a click exactly 7 days after serving, not one a millisecond later', async () => {
    await serve('r-window', 'u4', T0 - 8 * DAY, [
      ['w1', 0.1],
      ['w2', 0.2],
    ]);
    await feedback('r-window', 'u4', 'w1', true, T0 - DAY);
    await feedback('r-window', 'u4', 'w2', true, T0 - DAY + 1);
    try {
      const { rows } = await db.query(
        `SELECT l.artist_id, l.clicked, u.reason
           FROM feedback_labels() l
           LEFT JOIN unmatched_feedback() u ON u.request_id = l.request_id AND u.artist_id = l.artist_id
          WHERE l.request_id = 'r-window' ORDER BY l.position`,
      );
      expect(rows).toEqual([
        { artist_id: 'w1', clicked: 1, reason: null },
        { artist_id: 'w2', clicked: 0, reason: 'expired_request' },
      ]);
    } finally {
      await db.query(`DELETE FROM served_items WHERE request_id = 'r-window'`);
      await db.query(`DELETE FROM feedback WHERE request_id = 'r-window'`);
    }
  });

  it('exports the labels split by serving time at the cutoff, ordered by request and position', async () => {
    const dir = outDir();
    const manifest = await exportSnapshot(db, dir, { cutoff: new Date(CUTOFF), k: 1 });
    expect(readFileSync(join(dir, SNAPSHOT_FILES.trainFeedback), 'utf8')).toBe(
      HEADER +
        `u3,a5,r-old,1,0.3,champion,m1,0,${iso(T0 - 10 * DAY)}\n` +
        `u1,a1,r1,1,0.9,champion,m1,1,${iso(T0)}\n` +
        `u1,a2,r1,2,0.5,champion,m1,0,${iso(T0)}\n` +
        `u1,a3,r1,3,-0.25,champion,m1,1,${iso(T0)}\n`,
    );
    expect(readFileSync(join(dir, SNAPSHOT_FILES.validationFeedback), 'utf8')).toBe(
      HEADER +
        `u2,a1,r2,1,0.7,champion,m1,0,${iso(CUTOFF + HOUR)}\n` +
        `u2,a4,r2,2,1e-07,champion,m1,1,${iso(CUTOFF + HOUR)}\n`,
    );
    expect(manifest.files[SNAPSHOT_FILES.trainFeedback].rows).toBe(4);
    expect(manifest.files[SNAPSHOT_FILES.validationFeedback].rows).toBe(2);
    expect(manifest.unmatchedFeedback).toEqual({ unknown_request: 1, unknown_item: 1, expired_request: 1 });
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
  });

  it('counts only feedback recorded before a bounded validation end', async () => {
    const dir = outDir();
    const manifest = await exportSnapshot(db, dir, {
      cutoff: new Date(CUTOFF),
      validationEnd: new Date(CUTOFF + 90 * 60_000),
      k: 1,
    });
    // r2 was served within the window; its click came after it.
    expect(readFileSync(join(dir, SNAPSHOT_FILES.validationFeedback), 'utf8')).toBe(
      HEADER +
        `u2,a1,r2,1,0.7,champion,m1,0,${iso(CUTOFF + HOUR)}\n` +
        `u2,a4,r2,2,1e-07,champion,m1,0,${iso(CUTOFF + HOUR)}\n`,
    );
    expect(manifest.files[SNAPSHOT_FILES.trainFeedback].rows).toBe(4);
  });

  it('writes header-only feedback files when nothing was served', async () => {
    const empty = new Client(await pg.createDatabase('labels_empty'));
    await empty.connect();
    try {
      await migrate(empty, readMigrations(join(SQL, 'migrations')));
      const dir = outDir();
      const manifest = await exportSnapshot(empty, dir, { cutoff: new Date(CUTOFF), k: 1 });
      for (const file of [SNAPSHOT_FILES.trainFeedback, SNAPSHOT_FILES.validationFeedback]) {
        expect(readFileSync(join(dir, file), 'utf8')).toBe(HEADER);
        expect(manifest.files[file]).toMatchObject({ rows: 0, bytes: HEADER.length });
      }
      expect(manifest.unmatchedFeedback).toEqual({ unknown_request: 0, unknown_item: 0, expired_request: 0 });
    } finally {
      await empty.end();
    }
  });
});
