import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a design's SQL tree (`migrations/`, `features/`) is: SQL_DIR when set, else `sql/` next to
 * the bundle, where the function's bundling copies its design's SQL, else `repositoryDir` when the
 * caller names one and it exists: a design's handler passes its own `sql/<design>` so that tests and
 * local runs from the repository find it. The platform knows no design's SQL, so without a
 * `repositoryDir` an unbundled run must set SQL_DIR.
 */
export function sqlDir(env: NodeJS.ProcessEnv = process.env, repositoryDir?: string): string {
  if (env.SQL_DIR) return env.SQL_DIR;
  const bundled = join(__dirname, 'sql');
  if (existsSync(bundled)) return bundled;
  if (repositoryDir !== undefined && existsSync(repositoryDir)) return repositoryDir;
  const tried = [bundled, ...(repositoryDir === undefined ? [] : [repositoryDir])].join(' nor ');
  throw new Error(`SQL_DIR is not set, and there is no SQL folder at ${tried}`);
}
