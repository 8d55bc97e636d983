import { join } from 'node:path';
import { sqlDir } from '../../platform/shared-db/sql-dir';

/** This design's SQL in the repository, read by tests and local runs; a bundled function has its own copy. */
const REPOSITORY_SQL = join(__dirname, '..', '..', '..', 'sql', 'artist-recommender');

/** This design's SQL tree: SQL_DIR, else the copy bundled with the function, else `sql/artist-recommender`. */
export function designSqlDir(env: NodeJS.ProcessEnv = process.env): string {
  return sqlDir(env, REPOSITORY_SQL);
}
