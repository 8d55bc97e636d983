import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlDir } from '../../../../lambda/platform/shared-db/sql-dir';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sql-dir-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run from the repository, so no SQL is bundled beside the module: SQL_DIR or the caller's folder decides. */
describe('the SQL tree a function reads', () => {
  it('is SQL_DIR when set, even where the caller names a folder of its own', () => {
    expect(sqlDir({ SQL_DIR: '/opt/sql' }, dir)).toBe('/opt/sql');
    expect(sqlDir({ SQL_DIR: '/opt/sql' })).toBe('/opt/sql');
  });

  it("is the caller's repository folder when SQL_DIR is not set and that folder exists", () => {
    expect(sqlDir({}, dir)).toBe(dir);
    expect(sqlDir({ SQL_DIR: '' }, dir)).toBe(dir);
  });

  it('is an error naming every place looked at, never a guess', () => {
    const missing = join(dir, 'missing');
    expect(() => sqlDir({}, missing)).toThrow(
      `SQL_DIR is not set, and there is no SQL folder at ${join(__dirname, '..', '..', '..', '..', 'lambda', 'platform', 'shared-db', 'sql')} nor ${missing}`,
    );
    expect(() => sqlDir({})).toThrow(
      /^SQL_DIR is not set, and there is no SQL folder at \S+\/shared-db\/sql$/,
    );
  });
});
