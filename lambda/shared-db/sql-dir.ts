import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the `sql/` tree is: SQL_DIR, else `sql/` next to the bundle (copied there when the function
 * is bundled), else the repository's `sql/` (tests and local runs).
 */
export function sqlDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SQL_DIR) return env.SQL_DIR;
  const bundled = join(__dirname, 'sql');
  return existsSync(bundled) ? bundled : join(__dirname, '..', '..', 'sql');
}
