import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The files of `folder` (relative to `root`) that writing `expected` would change: missing or
 * different ones, and ones `expected` no longer holds. Sorted.
 */
export function staleFiles(root: string, folder: string, expected: ReadonlyMap<string, string>): string[] {
  const absoluteFolder = path.join(root, folder);
  const present = fs.existsSync(absoluteFolder)
    ? fs.readdirSync(absoluteFolder).map((name) => `${folder}/${name}`)
    : [];
  const differ = [...expected]
    .filter(([file, content]) => {
      const absolute = path.join(root, file);
      return !fs.existsSync(absolute) || fs.readFileSync(absolute, 'utf8') !== content;
    })
    .map(([file]) => file);
  return [...differ, ...present.filter((file) => !expected.has(file))].sort();
}
