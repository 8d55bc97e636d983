/**
 * Runs scripts/setup-test-env.sh (the first step of `npm test`) in a copy of the repository whose
 * .venv is already current, on this machine (Debian or Ubuntu, where `npm test` has provisioned
 * it), with chosen tools taken off PATH and `id`, `uname` and `apt-get` replaced by stand-ins that
 * record what they are asked: apt-get is never really run. Proves the fast path stays fast and
 * silent, that each missing thing is named with the one command that fixes it, and that as root
 * apt-get is asked for exactly the missing packages.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const ROOT = join(__dirname, '..');
const LOCK = join('sagemaker', 'requirements-test.lock');
/** The tools the script runs besides the ones a test hides or replaces. */
const TOOLS = [
  'bash',
  'dirname',
  'ls',
  'grep',
  'sort',
  'cmp',
  'xargs',
  'echo',
  'touch',
  'cp',
  'uname',
  'pg_config',
];

const PYTHON_VERSION = spawnSync(
  '/usr/bin/python3',
  ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
  {
    encoding: 'utf8',
    timeout: 10_000,
  },
).stdout.trim();

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function which(tool: string): string | undefined {
  const found = spawnSync('bash', ['-c', `type -P ${tool}`], { encoding: 'utf8', timeout: 10_000 });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function script(path: string, body: string): void {
  writeFileSync(path, `#!/bin/bash\n${body}\n`);
  chmodSync(path, 0o755);
}

interface Machine {
  /** The user id the stand-in `id -u` reports. */
  readonly uid: number;
  /** Tools absent from PATH; undefined keeps this machine's whole PATH behind the stand-ins. */
  readonly hide?: readonly string[];
  /** What the stand-in `uname -s` / `uname -m` report; undefined runs the real uname. */
  readonly uname?: readonly [string, string];
  /** Whether an `apt-get` is on PATH (the stand-in). */
  readonly aptGet?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

interface Run {
  readonly status: number | null;
  readonly stderr: string;
  readonly stdout: string;
  readonly ms: number;
  /** One entry per apt-get call: its arguments. */
  readonly aptGetCalls: string[];
  readonly root: string;
}

/** A copy of the script and the lock, with a .venv current for them, and a bin/ of stand-ins. */
function checkout(): { root: string; bin: string; aptLog: string } {
  const root = mkdtempSync(join(tmpdir(), 'setup-test-env-'));
  made.push(root);
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'sagemaker'));
  copyFileSync(join(ROOT, 'scripts', 'setup-test-env.sh'), join(root, 'scripts', 'setup-test-env.sh'));
  copyFileSync(join(ROOT, LOCK), join(root, LOCK));
  mkdirSync(join(root, '.venv', 'lib', `python${PYTHON_VERSION}`, 'site-packages'), { recursive: true });
  writeFileSync(join(root, '.venv', '.made-by-setup-test-env'), '');
  copyFileSync(join(ROOT, LOCK), join(root, '.venv', 'requirements-test.lock'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  return { root, bin, aptLog: join(root, 'apt-get.log') };
}

/** Runs the script on `machine`; `prepare` may change the checkout and add environment variables. */
function run(machine: Machine, prepare: (root: string) => NodeJS.ProcessEnv | void = () => undefined): Run {
  const { root, bin, aptLog } = checkout();
  const prepared = prepare(root) ?? {};
  const realId = which('id');
  script(join(bin, 'id'), `if [ "$*" = -u ]; then echo ${machine.uid}; else exec ${realId} "$@"; fi`);
  if (machine.uname) {
    const [system, arch] = machine.uname;
    script(join(bin, 'uname'), `case "$1" in -s) echo ${system} ;; -m) echo ${arch} ;; *) exit 2 ;; esac`);
  }
  if (machine.aptGet ?? true) {
    // Records each call; `install` "installs" each package as a program of that name on PATH,
    // which is what makes redis-server and openssl appear.
    script(
      join(bin, 'apt-get'),
      [
        `echo "$*" >> ${aptLog}`,
        'if [ "$1" = install ]; then',
        '  for arg in "$@"; do',
        `    case "$arg" in install|-*) ;; *) printf '#!/bin/bash\\n' > ${bin}/"$arg"; ${which('chmod')} +x ${bin}/"$arg" ;; esac`,
        '  done',
        'fi',
      ].join('\n'),
    );
  }
  let path = [bin, process.env.PATH ?? ''].join(delimiter);
  if (machine.hide) {
    for (const tool of TOOLS) {
      const real = which(tool);
      if (real && !machine.hide.includes(tool) && !existsSync(join(bin, tool)))
        symlinkSync(real, join(bin, tool));
    }
    path = bin;
  }
  const started = process.hrtime.bigint();
  const done = spawnSync(which('bash') ?? '/bin/bash', [join(root, 'scripts', 'setup-test-env.sh')], {
    // The SageMaker image environments (gigabytes from PyPI) are left out: this checkout holds only
    // the test lock, and their own contract tests (sagemaker/tests, `sagemaker_image`) cover them.
    env: {
      ...process.env,
      SAGEMAKER_IMAGE_ENVS: '0',
      TRINO_PARSER: '0',
      ...machine.env,
      ...prepared,
      PATH: path,
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const aptGetCalls = existsSync(aptLog) ? readFileSync(aptLog, 'utf8').trim().split('\n') : [];
  return { status: done.status, stderr: done.stderr, stdout: done.stdout, ms, aptGetCalls, root };
}

describe('scripts/setup-test-env.sh', () => {
  test('with everything present it exits 0 silently in well under a second, and runs no apt-get even as root', () => {
    // GIVEN this machine as `npm test` left it, as root, with an apt-get that records calls
    // WHEN the check runs
    const result = run({ uid: 0 });
    // THEN it passes, says nothing, installs nothing, and takes a fraction of a second
    expect(result).toMatchObject({ status: 0, stderr: '', stdout: '', aptGetCalls: [] });
    expect(result.ms).toBeLessThan(1000);
  });

  test('as a user on Debian it names each missing thing and the one sudo apt-get command, and exits 1 at once', () => {
    // GIVEN a user (not root) on a machine without redis-server and openssl
    const result = run({ uid: 1000, hide: ['redis-server', 'openssl'] });
    // THEN one line per missing thing, then the single command that installs them all
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      'setup-test-env: npm test needs what this machine lacks:',
      expect.stringMatching(/^ {2}- redis-server \(/),
      expect.stringMatching(/^ {2}- openssl \(/),
      'Install them all with:',
      '  sudo apt-get install -y --no-install-recommends openssl redis-server',
    ]);
    expect(result.aptGetCalls).toEqual([]);
    expect(result.ms).toBeLessThan(1000);
  });

  test('as root on Debian it installs exactly the missing packages with apt-get, then passes', () => {
    // GIVEN root on a machine without redis-server and openssl
    const result = run({ uid: 0, hide: ['redis-server', 'openssl'] });
    // THEN apt-get is updated once and asked for exactly those two, non-interactively; the re-check passes
    expect(result.aptGetCalls).toEqual([
      'update -qq',
      'install -y -qq --no-install-recommends openssl redis-server',
    ]);
    expect(result.stderr.trim().split('\n')).toEqual([
      'setup-test-env: installing openssl redis-server',
      expect.stringMatching(/^setup-test-env: installed in \d+ s$/),
    ]);
    expect(result.status).toBe(0);
  });

  test('a PostgreSQL older than 15 is reported with what to do, and apt-get is not asked to reinstall it', () => {
    // GIVEN root, and PG_BINDIR pointing at a PostgreSQL 14 (what Ubuntu 22.04's own package is)
    let pg14 = '';
    const result = run({ uid: 0 }, (root) => {
      pg14 = join(root, 'pg14');
      mkdirSync(pg14);
      script(join(pg14, 'initdb'), 'echo "initdb (PostgreSQL) 14.11"');
      script(join(pg14, 'pg_ctl'), 'exit 0');
      return { PG_BINDIR: pg14 };
    });
    // THEN it fails naming the version it found and the way forward; nothing is installed
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `PostgreSQL 15 or later is needed; ${pg14} has 'initdb (PostgreSQL) 14.11'`,
    );
    expect(result.aptGetCalls).toEqual([]);
  });

  test('a RECOMMENDER_PYTHON without the model and test modules is named module by module, with no apt-get', () => {
    // GIVEN RECOMMENDER_PYTHON set to a bare venv (no system site packages: no torch, no pytest)
    const bare = mkdtempSync(join(tmpdir(), 'bare-python-'));
    made.push(bare);
    const venv = spawnSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', bare], { timeout: 30_000 });
    expect(venv.status).toBe(0);
    const python = join(bare, 'bin', 'python');
    const result = run({ uid: 0, env: { RECOMMENDER_PYTHON: python } });
    // THEN each module it lacks has its own line, and the fix is left to the owner of that interpreter
    expect(result.status).toBe(1);
    for (const module of ['torch', 'numpy', 'matplotlib', 'tqdm', 'pytest']) {
      expect(result.stderr).toContain(`RECOMMENDER_PYTHON=${python} cannot import ${module};`);
    }
    expect(result.aptGetCalls).toEqual([]);
  });

  test('on macOS it gives the brew command and, for torch, the PyPI venv to point RECOMMENDER_PYTHON at', () => {
    // GIVEN macOS (no apt-get) without redis-server and openssl, and no RECOMMENDER_PYTHON
    const result = run({
      uid: 501,
      uname: ['Darwin', 'arm64'],
      aptGet: false,
      hide: ['redis-server', 'openssl'],
      env: { RECOMMENDER_PYTHON: '' },
    });
    // THEN
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('\n  brew install openssl@3 redis\n');
    expect(result.stderr).toContain("macOS has no counterpart of Debian's python3-torch");
    expect(result.stderr).toContain(`--require-hashes -r ${LOCK}`);
    expect(result.stderr).toContain('export RECOMMENDER_PYTHON=');
  });

  test('a .venv it did not make is left alone', () => {
    // GIVEN a .venv made by someone else
    const result = run({ uid: 0 }, (root) => {
      rmSync(join(root, '.venv'), { recursive: true });
      mkdirSync(join(root, '.venv'));
      writeFileSync(join(root, '.venv', 'theirs'), 'keep me');
    });
    // THEN the script stops with a message instead of clearing it
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('.venv exists but was not made by this script');
    expect(readFileSync(join(result.root, '.venv', 'theirs'), 'utf8')).toBe('keep me');
  });
});
