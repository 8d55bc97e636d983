/**
 * Athena for the state machine tests: the ETL's `athena:startQueryExecution.sync` tasks answered by
 * running the statement the state machine rendered on the lake's local engine. DDL is recorded (the
 * local engine's views stand for the tables), `INSERT INTO <table> <select>` appends to the table,
 * `UNLOAD (<select>) TO 's3://bucket/prefix/' WITH (format = 'JSON')` writes gzip JSON lines under
 * `<s3Root>/bucket/prefix/`. Anything else is refused as Athena refuses a statement it cannot run.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { LocalLake } from '../../../../lambda/artist-recommender/lake/duckdb';
import { LAKE_TABLES, type LakeTable } from '../../../../lambda/artist-recommender/lake/queries';
import { serviceError, type Responder } from '../../../support/asl';

export interface AthenaOnDuckDb {
  readonly responder: Responder;
  /** Every statement run, in order. */
  readonly statements: string[];
  /** Rows each INSERT INTO added, by table. */
  readonly inserted: Partial<Record<LakeTable, number>>;
  /** Rows each UNLOAD wrote, by its S3 URL. */
  readonly unloaded: Record<string, number>;
}

const INSERT = /^INSERT INTO (\w+) ([\s\S]+)$/;
const UNLOAD = /^UNLOAD \(([\s\S]+)\) TO 's3:\/\/([^/']+)\/([^']*)' WITH \(format = 'JSON'\)$/;

export function athenaOnDuckDb(lake: LocalLake, s3Root: string): AthenaOnDuckDb {
  const statements: string[] = [];
  const inserted: Partial<Record<LakeTable, number>> = {};
  const unloaded: Record<string, number> = {};
  const responder: Responder = async (request: { QueryString: string }) => {
    const sql = request.QueryString;
    statements.push(sql);
    let statementType = 'DML';
    const insert = INSERT.exec(sql);
    const unload = UNLOAD.exec(sql);
    if (/^CREATE (EXTERNAL )?TABLE IF NOT EXISTS /.test(sql)) {
      statementType = 'DDL';
    } else if (insert && (LAKE_TABLES as readonly string[]).includes(insert[1])) {
      const table = insert[1] as LakeTable;
      inserted[table] = (inserted[table] ?? 0) + (await lake.insert(table, insert[2]));
    } else if (unload) {
      unloaded[`s3://${unload[2]}/${unload[3]}`] = await lake.unloadSql(
        unload[1],
        join(s3Root, unload[2], unload[3]),
      );
    } else {
      throw serviceError('Athena.InvalidRequestException', `statement not understood: ${sql.slice(0, 80)}`);
    }
    const id = createHash('sha256').update(sql).digest('hex');
    return {
      QueryExecution: {
        QueryExecutionId: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
        Query: sql,
        StatementType: statementType,
        Status: { State: 'SUCCEEDED' },
        Statistics: { DataScannedInBytes: sql.length },
      },
    };
  };
  return { responder, statements, inserted, unloaded };
}
