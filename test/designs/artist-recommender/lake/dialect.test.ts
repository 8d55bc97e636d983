/**
 * The lake SQL keeps to what both engines accept: every query parses with Trino's own parser
 * (Athena engine v3 is Trino; scripts/setup-trino-parser.sh pins it) and binds on DuckDB, with
 * its parameters rendered; the parameters are rendered only from valid values.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLake } from '../../../../lambda/artist-recommender/lake/duckdb';
import {
  LAKE_OUTPUTS,
  LAKE_TABLES,
  parametersOf,
  readLakeQuery,
  renderLakeQuery,
} from '../../../../lambda/artist-recommender/lake/queries';

const ROOT = join(__dirname, '..', '..', '..', '..');
const LAKE_SQL = join(ROOT, 'sql', 'artist-recommender', 'lake');
const PARSER = join(ROOT, '.cache', 'trino-parser');
const PARAMS = {
  asOf: new Date('2026-03-01T00:00:00Z'),
  cutoff: new Date('2026-02-22T00:00:00Z'),
  halfLifeDays: 30,
  day: '2026-02-28',
};

/** Every query file: the outputs, the loads and the fragments they include. */
const QUERIES = readdirSync(LAKE_SQL, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.replace(/\.sql$/, ''))
  .sort();

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lake-dialect-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function trinoParse(statements: Record<string, string>): Record<string, { ok: boolean; error?: string }> {
  if (!existsSync(PARSER) || readdirSync(PARSER).length === 0)
    throw new Error(
      `Trino's parser is not in ${PARSER}: run bash scripts/setup-trino-parser.sh (npm test runs it)`,
    );
  const files = Object.entries(statements).map(([name, sql]) => {
    const file = join(work, `${name.replace(/\//g, '__')}.sql`);
    writeFileSync(file, sql);
    return file;
  });
  const run = spawnSync(
    'java',
    ['-cp', `${PARSER}/*`, join(ROOT, 'scripts', 'sql-parse', 'TrinoParse.java'), ...files],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (run.error) throw run.error;
  const results = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string; ok: boolean; error?: string });
  return Object.fromEntries(
    Object.keys(statements).map((name, i) => [name, { ok: results[i].ok, error: results[i].error }]),
  );
}

describe('the lake SQL', () => {
  it('covers every output and load with a query file', () => {
    for (const output of LAKE_OUTPUTS) expect(QUERIES).toContain(output);
    for (const table of LAKE_TABLES) expect(QUERIES).toContain(`load/${table}`);
  });

  // Athena's CREATE TABLE goes to its Hive-based DDL engine, not Trino
  // (https://docs.aws.amazon.com/athena/latest/ug/ddl-reference.html): the queries and the
  // INSERT INTO that wraps a load are what Trino parses.
  it("parses with Trino's parser, also as the INSERT INTO that wraps a load, and rejects PostgreSQL's casts", () => {
    const statements: Record<string, string> = {};
    for (const name of QUERIES) statements[name] = renderLakeQuery(readLakeQuery(LAKE_SQL, name), PARAMS);
    for (const table of LAKE_TABLES) {
      statements[`insert/${table}`] = `INSERT INTO lake.${table} ${statements[`load/${table}`]}`;
    }
    statements['postgres-cast'] = "SELECT user_id FROM events WHERE ts < '2026-01-01'::timestamptz";
    const parsed = trinoParse(statements);
    const failures = Object.entries(parsed).filter(([name, r]) => !r.ok && name !== 'postgres-cast');
    expect(failures).toEqual([]);
    expect(parsed['postgres-cast'].ok).toBe(false);
    expect(parsed['postgres-cast'].error).toMatch(/line 1:\d+/);
  }, 60_000);

  it('binds on DuckDB over empty tables', async () => {
    const lake = await LocalLake.open(join(work, 'empty'), LAKE_SQL);
    try {
      for (const name of QUERIES) {
        const sql = renderLakeQuery(readLakeQuery(LAKE_SQL, name), PARAMS);
        await expect(lake.select(`SELECT count(*) AS n FROM (${sql}) q`)).resolves.toEqual([{ n: 0 }]);
      }
    } finally {
      lake.close();
    }
  });

  it('renders parameters only from valid values, and names the one a query misses', () => {
    const sql = readLakeQuery(LAKE_SQL, 'features/top_artists');
    expect(parametersOf(sql)).toEqual(['as_of', 'half_life_days']);
    expect(renderLakeQuery(sql, PARAMS)).toContain("TIMESTAMP '2026-03-01 00:00:00.000'");
    expect(() => renderLakeQuery(sql, { asOf: PARAMS.asOf })).toThrow('{{half_life_days}}');
    expect(() => renderLakeQuery(sql, { ...PARAMS, halfLifeDays: 0 })).toThrow('halfLifeDays');
    expect(() => renderLakeQuery(sql, { ...PARAMS, asOf: new Date(NaN) })).toThrow('valid date');
    const load = readLakeQuery(LAKE_SQL, 'load/events');
    expect(() => renderLakeQuery(load, { day: "2026-02-28' OR '1'='1" })).toThrow('YYYY-MM-DD');
    expect(() => renderLakeQuery(load, { day: '2026-02-30x' })).toThrow('YYYY-MM-DD');
    expect(() => renderLakeQuery('SELECT {{nope}}', PARAMS)).toThrow('unknown lake SQL parameter {{nope}}');
  });

  it('inlines includes and refuses an include cycle', () => {
    expect(readLakeQuery(LAKE_SQL, 'features/interactions')).toContain('FROM served_items s');
    const dir = join(work, 'cycle');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'x'), { recursive: true });
    writeFileSync(join(dir, 'x', 'a.sql'), 'SELECT * FROM ({{> x/b}}) t');
    writeFileSync(join(dir, 'x', 'b.sql'), 'SELECT * FROM ({{> x/a}}) t');
    expect(() => readLakeQuery(dir, 'x/a')).toThrow('x/a -> x/b -> x/a');
  });
});
