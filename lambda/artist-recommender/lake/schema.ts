/**
 * The event lake's tables, declared once: the Iceberg tables Athena creates (`athenaTableDdl`), the
 * staged JSON lines the transform writes and both engines read, and DuckDB's local copies.
 * The columns are those of the PostgreSQL tables (migrations/002 and 005), less `loaded_at`.
 */
import { LAKE_TABLES, type LakeTable } from './queries';

type ColumnType = 'string' | 'strings' | 'int' | 'double' | 'boolean' | 'timestamp';

export const LAKE_COLUMNS: Record<LakeTable, Record<string, ColumnType>> = {
  events: {
    event_id: 'string',
    user_id: 'string',
    event_type: 'string',
    item_type: 'string',
    item_id: 'string',
    artist_ids: 'strings',
    song_ids: 'strings',
    ts: 'timestamp',
    request_id: 'string',
    variant: 'string',
    source_key: 'string',
  },
  served_items: {
    request_id: 'string',
    position: 'int',
    user_id: 'string',
    artist_id: 'string',
    variant: 'string',
    model_version: 'string',
    source: 'string',
    score: 'double',
    ts: 'timestamp',
    source_key: 'string',
  },
  feedback: {
    event_id: 'string',
    request_id: 'string',
    user_id: 'string',
    artist_id: 'string',
    clicked: 'boolean',
    variant: 'string',
    ts: 'timestamp',
    source_key: 'string',
  },
};

/** The k-anonymous profiles the account database exports for the lake (CSV with a header). */
export const PROFILE_COLUMNS = ['user_id', 'age_group', 'location'] as const;

const ATHENA: Record<ColumnType, string> = {
  string: 'string',
  strings: 'array<string>',
  int: 'int',
  double: 'double',
  boolean: 'boolean',
  timestamp: 'timestamp',
};

const DUCKDB: Record<ColumnType, string> = {
  string: 'VARCHAR',
  strings: 'VARCHAR[]',
  int: 'INTEGER',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

/**
 * A staged line's columns: the table's, with `ts` as text (`YYYY-MM-DD hh:mm:ss.sss`, UTC, which
 * `CAST(ts AS timestamp)` reads on both engines) and `line`, its position in the raw object (the
 * load keeps the first copy of a repeated key).
 */
export function stagedColumns(table: LakeTable): Record<string, ColumnType> {
  return { ...LAKE_COLUMNS[table], ts: 'string', line: 'int' };
}

/** `name TYPE, ...` for DuckDB. */
export function duckdbColumns(columns: Record<string, ColumnType>): Record<string, string> {
  return Object.fromEntries(Object.entries(columns).map(([name, type]) => [name, DUCKDB[type]]));
}

/**
 * The Iceberg table of `table`, partitioned by day of `ts`: Athena's CREATE TABLE for Iceberg
 * (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-creating-tables.html). Created by
 * the ETL's first lake step, not by CloudFormation: a Glue table declared with IcebergInput loses
 * its table_type on the first stack update (aws-cloudformation/cloudformation-coverage-roadmap#1919).
 * `location` ends with a slash.
 */
export function athenaTableDdl(table: LakeTable, location: string): string {
  const columns = Object.entries(LAKE_COLUMNS[table])
    .map(([name, type]) => `  ${name} ${ATHENA[type]}`)
    .join(',\n');
  return `CREATE TABLE IF NOT EXISTS ${table} (\n${columns}\n)
PARTITIONED BY (day(ts))
LOCATION '${location}'
TBLPROPERTIES ('table_type' = 'ICEBERG', 'format' = 'parquet', 'write_compression' = 'zstd')`;
}

/**
 * The staged lines of `table` as an external table over `<stagingUrl><table>/day=<day>/`, gzip JSON
 * lines read with the OpenX JSON SerDe. The day is a projected partition in Hive's `day=` layout,
 * so no crawler runs and no partition is added
 * (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html).
 */
export function athenaStagingDdl(table: LakeTable, stagingUrl: string): string {
  const columns = Object.entries(stagedColumns(table))
    .map(([name, type]) => `  ${name} ${ATHENA[type]}`)
    .join(',\n');
  return `CREATE EXTERNAL TABLE IF NOT EXISTS staging_${table} (\n${columns}\n)
PARTITIONED BY (day string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '${stagingUrl}${table}/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy-MM-dd',
  'projection.day.range' = '2020-01-01,NOW+1DAYS',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS'
)`;
}

/**
 * The exported profiles as an external table: CSV with a header, quoted where a value holds a
 * comma (OpenCSVSerDe, https://docs.aws.amazon.com/athena/latest/ug/csv-serde.html).
 */
export function athenaProfilesDdl(profilesUrl: string): string {
  return `CREATE EXTERNAL TABLE IF NOT EXISTS profiles (
${PROFILE_COLUMNS.map((c) => `  ${c} string`).join(',\n')}
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
LOCATION '${profilesUrl}'
TBLPROPERTIES ('skip.header.line.count' = '1')`;
}

/** Every DDL statement the lake needs, in the order the ETL runs them. */
export function athenaLakeDdl(urls: { tables: string; staging: string; profiles: string }): string[] {
  return [
    ...LAKE_TABLES.map((t) => athenaTableDdl(t, `${urls.tables}${t}/`)),
    ...LAKE_TABLES.map((t) => athenaStagingDdl(t, urls.staging)),
    athenaProfilesDdl(urls.profiles),
  ];
}

/** One staged JSON line of `table` from its values (ts as an ISO-8601 instant). */
export function stagedLine(table: LakeTable, values: Record<string, unknown>, line: number): string {
  const row: Record<string, unknown> = {};
  for (const name of Object.keys(LAKE_COLUMNS[table])) {
    const value = values[name];
    row[name] = name === 'ts' ? String(value).replace('T', ' ').replace('Z', '') : (value ?? null);
  }
  row.line = line;
  return JSON.stringify(row) + '\n';
}
