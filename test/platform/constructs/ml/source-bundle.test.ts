import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { packDeterministic } from '../../../../lib/platform/constructs/ml/source-bundle';

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-src-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

function listing(tarball: string): Array<{ path: string; mtime: number; mode: number }> {
  const entries: Array<{ path: string; mtime: number; mode: number }> = [];
  tar.t({
    file: tarball,
    sync: true,
    onReadEntry: (e) => entries.push({ path: e.path, mtime: e.mtime!.getTime(), mode: e.mode! }),
  });
  return entries;
}

describe('packDeterministic', () => {
  const files = {
    'train.py': 'print(1)\n',
    'pkg/a.py': 'A = 1\n',
    'tests/test_a.py': 'x\n',
    'pkg/__pycache__/a.pyc': 'bin',
  };

  test('the same tree gives the same bytes, whatever the file times', () => {
    const first = packDeterministic(tree(files), ['tests'], {});
    const dir = tree(files);
    fs.utimesSync(path.join(dir, 'train.py'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    const second = packDeterministic(dir, ['tests'], {});
    expect(fs.readFileSync(second).equals(fs.readFileSync(first))).toBe(true);
  });

  test('a changed file changes the bytes', () => {
    const before = packDeterministic(tree(files), [], {});
    const after = packDeterministic(tree({ ...files, 'pkg/a.py': 'A = 2\n' }), [], {});
    expect(fs.readFileSync(after).equals(fs.readFileSync(before))).toBe(false);
  });

  test('entries are sorted, excluded paths and caches are left out, extra files are added', () => {
    const extra = tree({ 'inference.py': 'def model_fn(d): pass\n' });
    const tarball = packDeterministic(tree(files), ['tests'], {
      'code/inference.py': path.join(extra, 'inference.py'),
    });
    const entries = listing(tarball);
    expect(entries.map((e) => e.path)).toEqual(['code/inference.py', 'pkg/a.py', 'train.py']);
    expect(new Set(entries.map((e) => e.mtime))).toEqual(new Set([0]));
  });
});
