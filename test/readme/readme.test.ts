/**
 * README.md is a path a newcomer follows, so its commands are checked like code.
 *
 * Fenced blocks are marked by their info string:
 * - `sh readme-local`: needs no AWS account; each is run, in order, in one fresh copy of the
 *   repository, with `bash -euo pipefail` and `CI=true`, under a deadline (`timeout=SECONDS` in the
 *   info string overrides the default);
 * - `sh readme-aws`: needs an account; only its syntax is checked (`bash -n`);
 * - plain `sh`: an example that is not run (`npm test` itself would recurse); its syntax is checked.
 * Besides, every `npm run <name>` the README mentions must be a script of package.json, and every
 * repository path it writes in backticks must exist in the repository.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FencedBlock, fragmentLinks, npmRunNames, parseMarkdown } from './markdown';
import { REPO_ROOT, type WorkingCopy, makeWorkingCopy, runBlock, workingTreeFiles } from './working-copy';

const README = join(REPO_ROOT, 'README.md');
const text = readFileSync(README, 'utf8');
const doc = parseMarkdown(text);
const scripts: Record<string, string> = JSON.parse(
  readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'),
).scripts;

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell']);
const MARKERS = new Set(['readme-local', 'readme-aws']);
const DEFAULT_TIMEOUT_S = 120;
/** Repository folders whose paths the README names; a path-like code span under one must exist. */
const PATH_ROOTS = ['lib/', 'lambda/', 'sagemaker/', 'scripts/', 'test/', 'sql/', 'bench/', 'bin/'];

const shellBlocks = doc.blocks.filter((b) => SHELL_LANGUAGES.has(b.language));
const localBlocks = shellBlocks.filter((b) => b.tags.includes('readme-local'));
const where = (block: FencedBlock) => `README.md:${block.line}`;
const firstCommand = (block: FencedBlock) =>
  block.content
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'))
    ?.replace(/\s+#.*$/, '') ?? '(empty)';

function timeoutSeconds(block: FencedBlock): number {
  const tag = block.tags.find((t) => t.startsWith('timeout='));
  if (!tag) return DEFAULT_TIMEOUT_S;
  const seconds = Number(tag.slice('timeout='.length));
  if (!Number.isInteger(seconds) || seconds <= 0)
    throw new Error(`${where(block)}: ${tag} must be a whole number of seconds`);
  return seconds;
}

function tail(output: string, lines: number): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}

describe('README.md structure', () => {
  it('closes every fenced block', () => {
    expect(doc.unclosedFenceLine).toBeUndefined();
  });

  it('marks shell blocks only with readme-local, readme-aws or timeout=SECONDS', () => {
    const bad = shellBlocks.flatMap((b) =>
      b.tags
        .filter((t) => !MARKERS.has(t) && !/^timeout=\d+$/.test(t))
        .map((t) => `${where(b)}: unknown marker "${t}"`),
    );
    const both = shellBlocks
      .filter((b) => b.tags.includes('readme-local') && b.tags.includes('readme-aws'))
      .map((b) => `${where(b)}: marked both readme-local and readme-aws`);
    const stray = doc.blocks
      .filter((b) => !SHELL_LANGUAGES.has(b.language) && b.tags.some((t) => MARKERS.has(t)))
      .map((b) => `${where(b)}: ${b.tags.join(' ')} on a "${b.language}" block, which is never run`);
    expect([...bad, ...both, ...stray]).toEqual([]);
  });

  it('has runnable local blocks (the path a newcomer can follow without an account)', () => {
    expect(localBlocks.length).toBeGreaterThanOrEqual(3);
  });

  it('writes every shell block as valid bash', () => {
    const invalid = shellBlocks.flatMap((block) => {
      const check = spawnSync('bash', ['-n'], { input: block.content, encoding: 'utf8', timeout: 10_000 });
      if (check.status === 0) return [];
      // bash numbers the block's lines from 1; the block's first line is the one after the fence.
      const message = check.stderr.replace(
        /line (\d+)/g,
        (_, n) => `README.md line ${block.line + Number(n)}`,
      );
      return [`${where(block)} (${block.tags.join(' ') || 'plain sh'}): ${message.trim()}`];
    });
    expect(invalid).toEqual([]);
  });

  it('links only to headings that exist', () => {
    const anchors = new Set(doc.headings.map((h) => h.anchor));
    const broken = fragmentLinks(text)
      .filter((link) => !anchors.has(link.fragment))
      .map((link) => `README.md:${link.line}: #${link.fragment}`);
    expect(broken).toEqual([]);
  });

  it('names only npm scripts that package.json defines', () => {
    const missing = [...new Set(npmRunNames(text))].filter((name) => !(name in scripts));
    expect(missing).toEqual([]);
  });

  it('names only repository paths that exist', () => {
    const files = workingTreeFiles();
    const exists = (path: string) => {
      const bare = path.replace(/\/$/, '');
      return files.some((f) => f === bare || f.startsWith(`${bare}/`));
    };
    const missing = doc.codeSpans.flatMap((span) =>
      span.text
        .split(/\s+/)
        .map((token) => token.replace(/[.,;:)]+$/, ''))
        .filter((token) => PATH_ROOTS.some((root) => token.startsWith(root)))
        // Placeholders and patterns (`lambda/<name>/`, `raw/{day}`, `*.json`) are not paths.
        .filter((token) => !/[<>{}*$]|\.\.\./.test(token))
        .filter((token) => !exists(token))
        .map((token) => `README.md:${span.line}: \`${token}\``),
    );
    expect(missing).toEqual([]);
  });
});

// Without a local block there is nothing to run (the structure test above fails then).
if (localBlocks.length > 0)
  describe('README.md local blocks, run in order in a fresh copy of the repository', () => {
    let copy: WorkingCopy | undefined;
    beforeAll(() => {
      copy = makeWorkingCopy();
    }, 60_000);
    afterAll(() => copy?.remove());

    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
    // What jest sets for itself is not what a reader's shell has.
    delete env.JEST_WORKER_ID;
    delete env.NODE_ENV;

    for (const block of localBlocks) {
      const seconds = timeoutSeconds(block);
      it(
        `${where(block)} ${firstCommand(block)}`,
        async () => {
          const run = await runBlock(block.content, copy!.dir, seconds * 1000, env);
          if (run.code === 0 && !run.timedOut) return;
          const how = run.timedOut
            ? `did not finish within its ${seconds} s deadline`
            : `exited with ${run.code ?? run.signal} after ${run.seconds.toFixed(1)} s`;
          const commands = [...new Set(npmRunNames(block.content))];
          const blame = commands.length
            ? [
                'It runs ' +
                  commands
                    .map((c) => `\`npm run ${c}\` (${scripts[c] ?? 'not in package.json'})`)
                    .join(', ') +
                  '.',
                'When one of these commands changed (its options, its output folders), the README block and the command',
                'disagree: change whichever is wrong, then rerun `npx jest test/readme`.',
              ]
            : [];
          throw new Error(
            [
              `${where(block)}: the \`sh readme-local\` block ${how}.`,
              ...blame,
              '--- the block ---',
              block.content,
              '--- the last 60 lines of its output ---',
              tail(run.output, 60) || '(no output)',
            ].join('\n'),
          );
        },
        // The block's own deadline comes first; this one only covers stopping what it started.
        (seconds + 20) * 1000,
      );
    }
  });
