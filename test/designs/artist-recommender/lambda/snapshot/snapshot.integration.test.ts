import { CopyObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from 'pg';
import { migrate, readMigrations } from '../../../../../lambda/platform/db-migrate/migrate';
import { buildFeatures } from '../../../../../lambda/artist-recommender/features/build';
import {
  exportSnapshot,
  FEATURES_FILE,
  SNAPSHOT_FILES,
} from '../../../../../lambda/artist-recommender/snapshot/export';
import { handleSnapshot } from '../../../../../lambda/artist-recommender/snapshot/handler';
import { startPostgres, type LocalPostgres } from '../../../../support/postgres';
import { seededRandom } from '../../../../../scripts/support/seeded-random';

const SQL = join(__dirname, '..', '..', '..', '..', '..', 'sql', 'artist-recommender');
const CUTOFF = new Date('2026-02-15T00:00:00Z');
let pg: LocalPostgres;
let db: Client;
const dirs: string[] = [];

function csv(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => line.split(','));
}

function outDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-'));
  dirs.push(dir);
  return dir;
}

interface Account {
  user_id: string;
  dob: string | null;
  city: string | null;
  state: string | null;
  country: string | null;
}

/** A population with skewed locations (a few big cities, a long tail) and some missing values. */
function population(seed: number, size: number): Account[] {
  const random = seededRandom(seed);
  const pick = <T>(values: T[]): T => values[Math.floor(random() ** 2 * values.length)];
  return Array.from({ length: size }, (_, i) => {
    const country = pick(['US', 'DE', 'BR', 'JP', 'IS']);
    const state = `${country}-S${Math.floor(random() ** 2 * 3)}`;
    const year = 1940 + Math.floor(random() * 70);
    return {
      user_id: `s${seed}-u${i}`,
      dob: random() < 0.05 ? null : `${year}-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}-15`,
      city: random() < 0.1 ? null : ` ${state} City ${Math.floor(random() ** 3 * 6)} `,
      state: random() < 0.03 ? null : state,
      country: random() < 0.02 ? null : country,
    };
  });
}

async function insertAccounts(accounts: Account[]): Promise<void> {
  await db.query(
    `INSERT INTO accounts (user_id, date_of_birth, city, state, country)
     SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[])`,
    [
      accounts.map((a) => a.user_id),
      accounts.map((a) => a.dob),
      accounts.map((a) => a.city),
      accounts.map((a) => a.state),
      accounts.map((a) => a.country),
    ],
  );
}

/** Events of `users` over 30 days around the cutoff, some on songs that credit artists. */
async function insertEvents(seed: number, users: string[], count: number): Promise<void> {
  const random = seededRandom(seed);
  const types = ['impression', 'impression', 'click', 'play', 'like'];
  const rows = Array.from({ length: count }, (_, i) => {
    const song = random() < 0.3;
    const artist = `a${Math.floor(random() * 40)}`;
    return [
      `ev${seed}-${i}`,
      users[Math.floor(random() * users.length)],
      types[Math.floor(random() * types.length)],
      song ? 'song' : 'artist',
      song ? `s${Math.floor(random() * 100)}` : artist,
      song ? `{${artist}}` : '{}',
      new Date(CUTOFF.getTime() + (random() - 0.6) * 30 * 86_400_000).toISOString(),
      `r${Math.floor(i / 3)}`,
      random() < 0.5 ? 'champion' : 'challenger',
    ];
  });
  const column = (n: number) => rows.map((r) => r[n]);
  await db.query(
    `INSERT INTO events (event_id, user_id, event_type, item_type, item_id, artist_ids, ts, request_id, variant)
     SELECT c1, c2, c3, c4, c5, c6::text[], c7, c8, c9
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                   $7::timestamptz[], $8::text[], $9::text[]) AS t(c1, c2, c3, c4, c5, c6, c7, c8, c9)`,
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map(column),
  );
}

beforeAll(async () => {
  pg = await startPostgres();
  db = new Client(await pg.createDatabase('features'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
});

afterAll(async () => {
  await db?.end();
  pg?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('k-anonymous user attributes', () => {
  it.each([
    [11, 400, 2],
    [12, 400, 5],
    [13, 250, 10],
    [14, 120, 25],
    [15, 30, 50],
  ])('seed %i: %i users, k=%i: every group holds at least k users', async (seed, size, k) => {
    const accounts = population(seed, size);
    await insertAccounts(accounts);
    const { rows } = await db.query(
      `SELECT user_id, age_group, location, location_level FROM generalise_locations($1, $2::date, $3)`,
      [k, '2026-02-15', accounts.map((a) => a.user_id)],
    );
    const groups = new Map<string, number>();
    for (const r of rows)
      groups.set(`${r.age_group}|${r.location}`, (groups.get(`${r.age_group}|${r.location}`) ?? 0) + 1);
    for (const [group, n] of groups) expect([group, n >= k]).toEqual([group, true]);
    // Suppression only happens when fewer than k users are left for the most general group.
    expect(size - rows.length).toBeLessThan(k);
    // Generalisation is not all-or-nothing: with a small k, many users keep their city.
    if (k <= 5) expect(rows.filter((r) => r.location_level === 'city').length).toBeGreaterThan(size / 10);
    for (const r of rows)
      expect(r.location.split('/').length).toBe(
        { city: 3, state: 2, country: 1, unknown: 1 }[r.location_level as string],
      );
  });
});

describe('features and snapshot', () => {
  let users: string[];

  beforeAll(async () => {
    await db.query('TRUNCATE accounts, events');
    const accounts = population(42, 300);
    await insertAccounts(accounts);
    users = accounts.map((a) => a.user_id);
    // Some users have events but no account: they get no side features, never an error.
    await insertEvents(42, [...users.slice(0, 200), 'ghost-1', 'ghost-2'], 6000);
  });

  it('builds the feature tables without a birth date anywhere', async () => {
    const run = await buildFeatures(db, join(SQL, 'features'), { asOf: CUTOFF, k: 10, halfLifeDays: 14 });
    expect(run.rows.feature_user_profile).toBeGreaterThan(290);
    expect(run.rows.feature_user_top_artists).toBeGreaterThan(0);
    const columns = await db.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name LIKE 'feature_%'`,
    );
    for (const c of columns.rows) {
      expect(c.column_name).not.toMatch(/birth|dob|city|state|country/);
      expect(c.data_type).not.toBe('date');
    }
    const small = await db.query(
      `SELECT age_group, location, count(*) AS n FROM feature_user_profile GROUP BY 1, 2 HAVING count(*) < 10`,
    );
    expect(small.rows).toEqual([]);
    const top = await db.query(
      `SELECT max(rank) AS r, bool_and(score > 0) AS positive FROM feature_user_top_artists`,
    );
    expect(top.rows[0]).toEqual({ r: expect.any(Number), positive: true });
    expect(top.rows[0].r).toBeLessThanOrEqual(100);
    const late = await db.query(
      `SELECT count(*) AS n FROM feature_user_interactions WHERE last_event_at >= $1`,
      [CUTOFF],
    );
    expect(Number(late.rows[0].n)).toBe(0);
  });

  it('ranks recent favourites first (recency decay)', async () => {
    await db.query(
      `INSERT INTO events (event_id, user_id, event_type, item_type, item_id, ts, request_id, variant) VALUES
         ('decay-1', 'decay-user', 'like', 'artist', 'old-fav', $1::timestamptz - interval '60 days', 'r', 'v'),
         ('decay-2', 'decay-user', 'like', 'artist', 'old-fav', $1::timestamptz - interval '59 days', 'r', 'v'),
         ('decay-3', 'decay-user', 'click', 'artist', 'new-fav', $1::timestamptz - interval '1 day', 'r', 'v')`,
      [CUTOFF],
    );
    await buildFeatures(db, join(SQL, 'features'), { asOf: CUTOFF, k: 10, halfLifeDays: 7 });
    const { rows } = await db.query(
      `SELECT artist_id FROM feature_user_top_artists WHERE user_id = 'decay-user' ORDER BY rank`,
    );
    expect(rows.map((r) => r.artist_id)).toEqual(['new-fav', 'old-fav']);
    await db.query(`DELETE FROM events WHERE user_id = 'decay-user'`);
  });

  it('exports a temporal split with no leak, k-anonymous users and no birth date', async () => {
    const dir = outDir();
    const manifest = await exportSnapshot(db, dir, { cutoff: CUTOFF, k: 10 });
    const train = csv(join(dir, SNAPSHOT_FILES.train));
    const validation = csv(join(dir, SNAPSHOT_FILES.validation));
    const usersCsv = csv(join(dir, SNAPSHOT_FILES.users));
    expect(train[0]).toEqual(['user_id', 'item_id', 'weight', 'ts']);
    expect(validation[0]).toEqual(['user_id', 'item_id', 'weight', 'ts']);
    expect(usersCsv[0]).toEqual(['user_id', 'age_group', 'location']);
    expect(train.length).toBeGreaterThan(100);
    expect(validation.length).toBeGreaterThan(10);

    for (const row of train.slice(1)) expect(Date.parse(row[3]) < CUTOFF.getTime()).toBe(true);
    for (const row of validation.slice(1)) expect(Date.parse(row[3]) >= CUTOFF.getTime()).toBe(true);
    for (const row of [...train.slice(1), ...validation.slice(1)]) expect(Number(row[2])).toBeGreaterThan(0);
    const trainPairs = new Set(train.slice(1).map((r) => `${r[0]}|${r[1]}`));
    expect(validation.slice(1).filter((r) => trainPairs.has(`${r[0]}|${r[1]}`))).toEqual([]);

    // The earliest validation event of a pair is at or after the cutoff too, not only the latest.
    const early = await db.query(
      `SELECT count(*) AS n FROM events WHERE ts >= $1 AND event_type <> 'impression' AND item_type = 'artist'
          AND user_id || '|' || item_id = ANY($2::text[]) AND ts < $1`,
      [CUTOFF, validation.slice(1).map((r) => `${r[0]}|${r[1]}`)],
    );
    expect(Number(early.rows[0].n)).toBe(0);

    const groups = new Map<string, number>();
    for (const [, age, location] of usersCsv.slice(1))
      groups.set(`${age}|${location}`, (groups.get(`${age}|${location}`) ?? 0) + 1);
    for (const n of groups.values()) expect(n).toBeGreaterThanOrEqual(10);
    const dobs = new Set(
      (
        await db.query(`SELECT date_of_birth::text AS d FROM accounts WHERE date_of_birth IS NOT NULL`)
      ).rows.map((r) => r.d),
    );
    const everything = readFileSync(join(dir, SNAPSHOT_FILES.users), 'utf8');
    for (const d of dobs) expect(everything.includes(d)).toBe(false);
    expect(everything).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(usersCsv.slice(1).some((r) => r[0].startsWith('ghost'))).toBe(false);

    expect(manifest.files[SNAPSHOT_FILES.train].rows).toBe(train.length - 1);
    expect(manifest.files[SNAPSHOT_FILES.validation].rows).toBe(validation.length - 1);
    expect(manifest.files[SNAPSHOT_FILES.users].rows).toBe(usersCsv.length - 1);
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
  });

  it('is deterministic: same data and cutoff give byte-identical files', async () => {
    const a = outDir();
    const b = outDir();
    await exportSnapshot(db, a, { cutoff: CUTOFF, k: 10 });
    // Physical order changes (an update rewrites rows) must not change the output.
    await db.query(`UPDATE events SET loaded_at = now() WHERE event_id LIKE 'ev42-1%'`);
    await exportSnapshot(db, b, { cutoff: CUTOFF, k: 10 });
    for (const file of [...Object.values(SNAPSHOT_FILES), FEATURES_FILE, 'manifest.json']) {
      expect(readFileSync(join(b, file))).toEqual(readFileSync(join(a, file)));
    }
  });

  it('bounds the validation window when asked', async () => {
    const dir = outDir();
    const end = new Date(CUTOFF.getTime() + 3 * 86_400_000);
    await exportSnapshot(db, dir, { cutoff: CUTOFF, validationEnd: end, k: 10 });
    for (const row of csv(join(dir, SNAPSHOT_FILES.validation)).slice(1)) {
      expect(Date.parse(row[3]) < end.getTime()).toBe(true);
    }
  });

  it('exports the Feature Store records: one per profiled user, k-anonymous, in rank order', async () => {
    await buildFeatures(db, join(SQL, 'features'), { asOf: CUTOFF, k: 10, halfLifeDays: 14 });
    const dir = outDir();
    const manifest = await exportSnapshot(db, dir, { cutoff: CUTOFF, k: 10 });
    const lines = readFileSync(join(dir, FEATURES_FILE), 'utf8').trimEnd().split('\n');
    const records = lines.map((line) => JSON.parse(line));
    const profiles = await db.query(`SELECT user_id FROM feature_user_profile ORDER BY user_id COLLATE "C"`);
    expect(records.map((r) => r.user_id)).toEqual(profiles.rows.map((r) => r.user_id));
    expect(manifest.files[FEATURES_FILE].rows).toBe(records.length);
    for (const r of records) {
      expect(Object.keys(r)).toEqual([
        'user_id',
        'age_group',
        'location',
        'top_artists',
        'top_songs',
        'interaction_count',
        'event_time',
      ]);
      expect(r.event_time).toBe(CUTOFF.toISOString());
      expect(Number.isInteger(r.interaction_count)).toBe(true);
    }
    const groups = new Map<string, number>();
    for (const r of records)
      groups.set(`${r.age_group}|${r.location}`, (groups.get(`${r.age_group}|${r.location}`) ?? 0) + 1);
    for (const n of groups.values()) expect(n).toBeGreaterThanOrEqual(10);
    // Nothing date-like but the event time: no birth date leaves the database.
    const text = readFileSync(join(dir, FEATURES_FILE), 'utf8').replaceAll(CUTOFF.toISOString(), '');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(records.some((r) => String(r.user_id).startsWith('ghost'))).toBe(false);

    const busiest = await db.query(
      `SELECT user_id, clicks + plays + likes AS n FROM feature_user_interactions
        WHERE user_id IN (SELECT user_id FROM feature_user_profile) ORDER BY n DESC, user_id LIMIT 1`,
    );
    const user = busiest.rows[0].user_id;
    const record = records.find((r) => r.user_id === user);
    expect(record.interaction_count).toBe(Number(busiest.rows[0].n));
    const artists = await db.query(
      `SELECT artist_id FROM feature_user_top_artists WHERE user_id = $1 ORDER BY rank`,
      [user],
    );
    expect(record.top_artists).toBe(artists.rows.map((r) => r.artist_id).join(','));
    const songs = await db.query(
      `SELECT song_id FROM feature_user_top_songs WHERE user_id = $1 ORDER BY rank`,
      [user],
    );
    expect(record.top_songs).toBe(songs.rows.map((r) => r.song_id).join(','));
    // A user with an account and no events has empty lists and a zero count, not a missing field.
    const quiet = records.find((r) => r.user_id === users[299]);
    expect(quiet).toMatchObject({ top_artists: '', top_songs: '', interaction_count: 0 });
  });

  it('stamps the records with the as-of instant of the last feature build', async () => {
    const later = new Date(CUTOFF.getTime() + 86_400_000);
    await buildFeatures(db, join(SQL, 'features'), { asOf: later, k: 10, halfLifeDays: 14 });
    try {
      const dir = outDir();
      await exportSnapshot(db, dir, { cutoff: CUTOFF, k: 10 });
      const first = JSON.parse(readFileSync(join(dir, FEATURES_FILE), 'utf8').split('\n')[0]);
      expect(first.event_time).toBe(later.toISOString());
    } finally {
      await buildFeatures(db, join(SQL, 'features'), { asOf: CUTOFF, k: 10, halfLifeDays: 14 });
    }
  });

  it('keeps quotes and backslashes in the JSON lines intact', async () => {
    const odd = Array.from({ length: 10 }, (_, i) => ({
      user_id: `odd-${i}`,
      dob: '1990-05-05',
      city: 'Quote " and back\\slash',
      state: 'Odd-S',
      country: 'ZZ',
    }));
    await insertAccounts(odd);
    try {
      await buildFeatures(db, join(SQL, 'features'), { asOf: CUTOFF, k: 10, halfLifeDays: 14 });
      const dir = outDir();
      await exportSnapshot(db, dir, { cutoff: CUTOFF, k: 10 });
      const records = readFileSync(join(dir, FEATURES_FILE), 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      const located = records.filter((r) => String(r.user_id).startsWith('odd-'));
      expect(located).toHaveLength(10);
      for (const r of located) expect(r.location).toBe('zz/odd-s/quote " and back\\slash');
    } finally {
      await db.query(`DELETE FROM accounts WHERE user_id LIKE 'odd-%'`);
    }
  });

  it('uploads the features file, reports its key and publishes the training channels', async () => {
    const s3 = apiCheckedMockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    s3.on(CopyObjectCommand).resolves({});
    s3.on(ListObjectsV2Command).resolves({});
    try {
      const result = await handleSnapshot(
        { cutoff: CUTOFF.toISOString(), k: 10 },
        {
          ...pg.env('features'),
          SNAPSHOT_BUCKET: 'bkt',
          SNAPSHOT_PUBLISH_PREFIX: 'training/current/',
          SNAPSHOT_WORK_DIR: outDir(),
        },
        new S3Client({ region: 'us-east-1' }),
      );
      const prefix = `snapshots/${CUTOFF.toISOString()}/`;
      expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
        `${prefix}train/interactions.csv`,
        `${prefix}train/users.csv`,
        `${prefix}train/feedback.csv`,
        `${prefix}validation/interactions.csv`,
        `${prefix}validation/feedback.csv`,
        `${prefix}${FEATURES_FILE}`,
        `${prefix}manifest.json`,
      ]);
      expect(result.featuresKey).toBe(`${prefix}${FEATURES_FILE}`);
      expect(result.files[FEATURES_FILE].rows).toBeGreaterThan(290);
      expect(result.publishedPrefix).toBe('s3://bkt/training/current/');
      expect(s3.commandCalls(CopyObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
        'training/current/train/interactions.csv',
        'training/current/train/users.csv',
        'training/current/train/feedback.csv',
        'training/current/validation/interactions.csv',
        'training/current/validation/feedback.csv',
        'training/current/manifest.json',
      ]);
    } finally {
      // The mock never reads the file streams it was given: close them before their files go.
      const bodies = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Body as Readable);
      await Promise.all(bodies.map((b) => new Promise((resolve) => (b.once('close', resolve), b.destroy()))));
      s3.restore();
    }
  });

  it('refuses a publish prefix without a bucket before touching the database', async () => {
    await expect(
      handleSnapshot({ cutoff: CUTOFF.toISOString() }, { SNAPSHOT_PUBLISH_PREFIX: 'training/current/' }),
    ).rejects.toThrow(/needs SNAPSHOT_BUCKET/);
  });
});
