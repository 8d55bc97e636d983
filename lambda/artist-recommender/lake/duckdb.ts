/**
 * The lake's local engine: DuckDB, embedded, over Parquet files in a folder. It runs the same SQL
 * as Athena (`sql/artist-recommender/lake/`), so `e2e:local`, the tests and `bench:features`
 * exercise the queries the ETL runs in AWS. Local only (tests, scripts, benchmarks): no function
 * bundles it.
 *
 * Layout under `root`:
 * - `staging/<table>/day=YYYY-MM-DD/*.json.gz`: staged lines, as the transform writes them to S3;
 * - `tables/<table>/day=YYYY-MM-DD/*.parquet`: the tables, one folder per day as Iceberg's
 *   `day(ts)` partitions them;
 * - `profiles/*.csv`: the k-anonymous profiles the account database exports.
 * Outputs are written as Athena's UNLOAD writes them with `format = 'JSON'`: gzip JSON lines.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createReadStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { join } from 'node:path';
import {
  LAKE_TABLES,
  readLakeQuery,
  renderLakeQuery,
  type LakeOutput,
  type LakeParameters,
  type LakeTable,
} from './queries';
import { duckdbColumns, LAKE_COLUMNS, PROFILE_COLUMNS, stagedColumns } from './schema';

const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

function hasFiles(dir: string, suffix: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith(suffix));
}

function typed(columns: Record<string, string>): string {
  return Object.entries(columns)
    .map(([name, type]) => `CAST(NULL AS ${type}) AS ${name}`)
    .join(', ');
}

export interface LocalLakeOptions {
  /** DuckDB's worker threads; default: one per core. */
  readonly threads?: number;
  /** DuckDB's memory limit, e.g. '4GB'; default: DuckDB's (80% of RAM). */
  readonly memoryLimit?: string;
}

export class LocalLake {
  private constructor(
    readonly root: string,
    readonly sqlDir: string,
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
  ) {}

  static async open(root: string, sqlDir: string, options: LocalLakeOptions = {}): Promise<LocalLake> {
    mkdirSync(root, { recursive: true });
    const settings: Record<string, string> = {};
    if (options.threads !== undefined) settings.threads = String(options.threads);
    if (options.memoryLimit !== undefined) settings.memory_limit = options.memoryLimit;
    // Nothing leaves the machine: no extension is downloaded, no remote file is read.
    settings.autoinstall_known_extensions = 'false';
    settings.autoload_known_extensions = 'false';
    const instance = await DuckDBInstance.create(':memory:', settings);
    const lake = new LocalLake(root, sqlDir, instance, await instance.connect());
    // Trino's functions the lake SQL uses that DuckDB names differently.
    // https://trino.io/docs/current/functions/array.html#array_join
    await lake.db.run('CREATE MACRO array_join(list, separator) AS array_to_string(list, separator)');
    await lake.refresh();
    return lake;
  }

  tableDir(table: LakeTable): string {
    return join(this.root, 'tables', table);
  }

  stagingDir(day: string, table: LakeTable): string {
    return join(this.root, 'staging', table, `day=${day}`);
  }

  get profilesDir(): string {
    return join(this.root, 'profiles');
  }

  /** (Re)binds the views `events`, `served_items`, `feedback`, `staging_*` and `profiles` to the files there now. */
  async refresh(): Promise<void> {
    for (const table of LAKE_TABLES) {
      const dir = this.tableDir(table);
      const columns = duckdbColumns(LAKE_COLUMNS[table]);
      const body = hasFiles(dir, '.parquet')
        ? `SELECT ${Object.keys(columns).join(', ')} FROM read_parquet(${quote(join(dir, '*', '*.parquet'))}, hive_partitioning = true)`
        : `SELECT ${typed(columns)} WHERE false`;
      await this.db.run(`CREATE OR REPLACE VIEW ${table} AS ${body}`);

      const staged = duckdbColumns(stagedColumns(table));
      const stagingGlob = join(this.root, 'staging', table, 'day=*', '*.json.gz');
      const stagingBody = hasFiles(join(this.root, 'staging', table), '.json.gz')
        ? `SELECT * FROM read_json(${quote(stagingGlob)}, format = 'newline_delimited', hive_partitioning = true,
             columns = {${Object.entries(staged)
               .map(([n, t]) => `${n}: ${quote(t)}`)
               .join(', ')}})`
        : undefined;
      await this.db.run(
        `CREATE OR REPLACE VIEW staging_${table} AS ${stagingBody ?? `SELECT ${typed(staged)}, CAST(NULL AS VARCHAR) AS day WHERE false`}`,
      );
    }
    const profiles = hasFiles(this.profilesDir, '.csv')
      ? `SELECT ${PROFILE_COLUMNS.join(', ')} FROM read_csv(${quote(join(this.profilesDir, '*.csv'))}, header = true,
           columns = {${PROFILE_COLUMNS.map((c) => `${c}: 'VARCHAR'`).join(', ')}})`
      : `SELECT ${PROFILE_COLUMNS.map((c) => `CAST(NULL AS VARCHAR) AS ${c}`).join(', ')} WHERE false`;
    await this.db.run(`CREATE OR REPLACE VIEW profiles AS ${profiles}`);
  }

  /**
   * Moves the staged lines of `day` into the tables (the load queries: new keys only), as the
   * ETL's LoadLake step does with INSERT INTO on Athena. Returns the rows added to each table.
   */
  async load(day: string): Promise<Record<LakeTable, number>> {
    const added = {} as Record<LakeTable, number>;
    for (const table of LAKE_TABLES) {
      added[table] = await this.insert(
        table,
        renderLakeQuery(readLakeQuery(this.sqlDir, `load/${table}`), { day }),
      );
    }
    return added;
  }

  /** `INSERT INTO <table> <select>` as Athena runs it on Iceberg: the rows land in their day's folder. */
  async insert(table: LakeTable, select: string): Promise<number> {
    await this.refresh();
    const dir = this.tableDir(table);
    mkdirSync(dir, { recursive: true });
    const count = await this.db.runAndReadAll(`SELECT count(*) AS n FROM (${select}) q`);
    const rows = Number(count.getRowObjects()[0].n);
    if (rows > 0) {
      await this.db.run(
        `COPY (SELECT *, strftime(ts, '%Y-%m-%d') AS day FROM (${select}) q)
           TO ${quote(dir)} (FORMAT parquet, PARTITION_BY (day), APPEND, COMPRESSION zstd)`,
      );
    }
    await this.refresh();
    return rows;
  }

  /** The rendered query of an output. */
  sql(name: LakeOutput, params: LakeParameters): string {
    return renderLakeQuery(readLakeQuery(this.sqlDir, name), params);
  }

  /** Runs any statement (tests and benchmarks prepare data with it). */
  async run(sql: string): Promise<void> {
    await this.db.run(sql);
  }

  /** An output's rows, as JSON values (bigint as number). */
  async rows(name: LakeOutput, params: LakeParameters): Promise<Record<string, unknown>[]> {
    return this.select(this.sql(name, params));
  }

  async select(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.db.runAndReadAll(sql);
    return reader
      .getRowObjectsJS()
      .map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
      );
  }

  /**
   * Writes an output as UNLOAD (format JSON) would: gzip JSON lines under `dir` (which must not
   * hold files yet, as UNLOAD's target must be empty). Returns the rows written.
   */
  async unload(name: LakeOutput, params: LakeParameters, dir: string): Promise<number> {
    return this.unloadSql(this.sql(name, params), dir);
  }

  /** A rendered SELECT written as UNLOAD (format JSON) writes it, to an empty `dir`. */
  async unloadSql(sql: string, dir: string): Promise<number> {
    if (hasFiles(dir, '')) throw new Error(`${dir} is not empty: UNLOAD writes only to an empty location`);
    mkdirSync(dir, { recursive: true });
    await this.refresh();
    const reader = await this.db.runAndReadAll(
      `COPY (${sql}) TO ${quote(join(dir, 'part-0.json.gz'))} (FORMAT json, COMPRESSION gzip)`,
    );
    return Number(reader.getRows()[0]?.[0] ?? 0);
  }

  close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }
}

/** The JSON lines of an unloaded output folder (every `*.gz` part, in name order). */
export async function* outputLines(dir: string): AsyncGenerator<string> {
  const parts = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.gz'))
        .sort()
    : [];
  for (const part of parts) {
    yield* createInterface({
      input: createReadStream(join(dir, part)).pipe(createGunzip()),
      crlfDelay: Infinity,
    });
  }
}
