import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { formatTable, parseE2eArgs, UsageError } from '../../../../scripts/artist-recommender/e2e-local';

const ROOT = join(__dirname, '..', '..', '..', '..');

describe('e2e-local arguments and table', () => {
  it('has small defaults and checks its flags', () => {
    expect(parseE2eArgs([])).toEqual({
      users: 2000,
      days: 7,
      seed: 1,
      k: 5,
      tuneBudget: 300,
      // The design's requirements (5M daily users) choose the lake.
      engine: 'lake',
      work: undefined,
      keep: false,
      quiet: false,
    });
    expect(parseE2eArgs(['--quiet'])).toMatchObject({ quiet: true });
    expect(parseE2eArgs(['--engine', 'postgres'])).toMatchObject({ engine: 'postgres' });
    expect(() => parseE2eArgs(['--engine', 'spark'])).toThrow(/--engine must be one of lake, postgres/);
    expect(parseE2eArgs(['--users', '300', '--days=3', '--seed', '9', '--keep'])).toMatchObject({
      users: 300,
      days: 3,
      seed: 9,
      keep: true,
    });
    expect(() => parseE2eArgs(['--users', 'many'])).toThrow(UsageError);
    expect(() => parseE2eArgs(['--days', '1'])).toThrow(/--days must be an integer in \[2, 365\]/);
    expect(() => parseE2eArgs(['--nope'])).toThrow(new UsageError("unknown option '--nope'"));
    expect(() => parseE2eArgs(['--work'])).toThrow(new UsageError('--work needs a value: a directory'));
    expect(parseE2eArgs(['--work', '/tmp/w', '--keep'])).toMatchObject({ work: '/tmp/w', keep: true });
  });

  it('formats one row per stage and a total', () => {
    const table = formatTable([
      { stage: 'generate', counts: '10 lines', ms: 1500 },
      { stage: 'serve', counts: 'source cache', ms: 20 },
    ]).split('\n');
    expect(table).toHaveLength(5);
    expect(table[2]).toMatch(/^generate\s+10 lines\s+1\.50 s$/);
    expect(table[4]).toMatch(/^total\s+1\.52 s$/);
  });
});

describe('npm run e2e:local (tiny)', () => {
  it('runs the whole path and answers from the cache', () => {
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'ts-node', 'dist', 'bin.js'),
        '--transpile-only',
        join(ROOT, 'scripts', 'artist-recommender', 'e2e-local.ts'),
        '--users',
        '200',
        '--days',
        '3',
        '--seed',
        '4',
        // The search's own tests cover it; here one short search keeps the whole path in the bound.
        '--tune-budget',
        '20',
      ],
      // Not a terminal: the progress is one line per stage on stderr, as in CI.
      // A guard against a hang, not a speed check (e2e:local prints its own timings): the path
      // trains twice when the data holds feedback, on a busy 2-core machine.
      { cwd: ROOT, encoding: 'utf8', timeout: 600_000, env: { ...process.env, CI: '' } },
    );
    const output = run.stdout + run.stderr;
    expect({ status: run.status, tail: output.slice(-3000) }).toEqual({
      status: 0,
      tail: expect.any(String),
    });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('e2e:local ok');
    expect(lines.at(-2)).toMatch(/^GET \/v1\/users\/\S+\/recommendations\?limit=5 -> 200 source: cache /);

    const conservation =
      /conservation: input (\d+) = clean (\d+) \+ duplicates (\d+) \+ quarantined (\d+): ok/.exec(run.stdout);
    expect(conservation).not.toBeNull();
    const [input, clean, duplicates, quarantined] = conservation!.slice(1).map(Number);
    expect(input).toBe(clean + duplicates + quarantined);
    expect(duplicates).toBeGreaterThan(0);
    expect(quarantined).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/generated lines (\d+), events (\d+), loaded \2: ok/);

    for (const stage of [
      'generate',
      'postgres',
      'accounts import',
      // The design's requirements put the event side on the lake.
      'transform + stage',
      'lake load',
      'features',
      'lake queries',
      'snapshot',
      'feature records',
      'train (local)',
      'cache load',
      'serve',
      'total',
    ]) {
      expect(lines.some((line) => line.startsWith(`${stage} `))).toBe(true);
      if (stage !== 'total') {
        const escaped = stage.replace(/[()+]/g, '\\$&');
        expect(run.stderr).toMatch(new RegExp(`^${escaped}: .+ \\(\\d+\\.\\d s[^)]*\\)$`, 'm'));
      }
    }
    // Only those lines: no bar, no escape sequence, when stderr is not a terminal.
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(13);
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr).not.toContain('\x1b');
  }, 610_000);
});
