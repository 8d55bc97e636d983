import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the design's SQL tree (`migrations/`, `features/`) is: SQL_DIR (tests and local runs name
 * `sql/<design>`), else `sql/` next to the bundle, where the function's bundling copies it.
 */
export function sqlDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SQL_DIR) return env.SQL_DIR;
  const bundled = join(__dirname, 'sql');
  if (existsSync(bundled)) return bundled;
  throw new Error('SQL_DIR is not set and no sql/ folder is bundled with this function');
}
