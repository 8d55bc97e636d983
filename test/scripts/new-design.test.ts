/**
 * `npm run new-design`: the renaming of a design's spellings, the fork's plan on a small repository
 * (what is copied, skipped, renamed and registered), and every refusal writing nothing. That a real
 * fork of each pattern synthesizes and passes its tests is `npm run test:new-design`'s to show
 * (scripts/test-new-design.sh), which `npm test` runs.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ForkRefused, planFork, writeFork } from '../../scripts/new-design/fork';
import { designNames, renameDesign } from '../../scripts/new-design/names';
import { DESIGNS } from '../../lib/designs';
import { fixtureDesign, registry } from '../support/fixture-design';

const ROOT = join(__dirname, '..', '..');
const REGISTERED = Object.keys(DESIGNS)[0];

describe('designNames', () => {
  it('spells an id for paths, Python, TypeScript and constants', () => {
    expect(designNames('search-click-scoring')).toEqual({
      kebab: 'search-click-scoring',
      snake: 'search_click_scoring',
      camel: 'searchClickScoring',
      pascal: 'SearchClickScoring',
      upper: 'SEARCH_CLICK_SCORING',
    });
  });
});

describe('renameDesign', () => {
  const from = designNames('ink-score');
  const to = designNames('feed-ranking');
  const rename = (text: string) => renameDesign(text, from, to);

  it('rewrites every spelling of the design', () => {
    expect(rename("import { inkScore } from './ink-score/design';")).toBe(
      "import { feedRanking } from './feed-ranking/design';",
    );
    expect(rename('addInkScoreStacks(app, config, inkScore)')).toBe(
      'addFeedRankingStacks(app, config, feedRanking)',
    );
    expect(rename('from ink_score.model import X')).toBe('from feed_ranking.model import X');
    expect(rename('test_ink_score_model.py')).toBe('test_feed_ranking_model.py');
    expect(rename('INK_SCORE_TABLE and InkScore-sandbox-Serving')).toBe(
      'FEED_RANKING_TABLE and FeedRanking-sandbox-Serving',
    );
    expect(rename('"ink-score:bench": "sagemaker/bin/py -m ink_score.bench"')).toBe(
      '"feed-ranking:bench": "sagemaker/bin/py -m feed_ranking.bench"',
    );
  });

  it('leaves words that only contain a spelling', () => {
    for (const text of ['blinkScores', 'pink-score', 'link_score', 'InkScorer', 'inkScores', 'drinkScore']) {
      expect(rename(text)).toBe(text);
    }
  });
});

/** A repository with a registry, package.json and one design of each pattern, in a temporary folder. */
function fixtureRepository(): string {
  const root = mkdtempSync(join(tmpdir(), 'new-design-'));
  const files: Record<string, string> = {
    '.prettierrc.json': readFileSync(join(ROOT, '.prettierrc.json'), 'utf8'),
    'lib/designs/index.ts': [
      "import type { Design } from '../platform/config/design';",
      "import { feedRanking } from './feed-ranking/design';",
      '',
      'export const DESIGNS: Readonly<Record<string, Design>> = {',
      '  [feedRanking.id]: feedRanking,',
      '};',
      '',
    ].join('\n'),
    'package.json': `${JSON.stringify(
      {
        name: 'x',
        scripts: {
          test: 'jest',
          'ranking:bench': 'sagemaker/bin/py -m feed_ranking.bench',
          'data:generate': 'ts-node --transpile-only scripts/feed-ranking/generate-data.ts',
          integ: 'ts-node --transpile-only test/designs/feed-ranking/integ/run.ts',
        },
      },
      null,
      2,
    )}\n`,
    'lib/designs/feed-ranking/design.ts': [
      'export const feedRanking = {',
      "  id: 'feed-ranking',",
      "  summary: 'Feed ranking: a fixture design for platform tests',",
      '};',
      '',
    ].join('\n'),
    'lambda/feed-ranking/serve/handler.ts': "export const TABLE = 'FEED_RANKING_ITEMS';\n",
    'sagemaker/feed_ranking/train.py': 'from feed_ranking.model import fit\n',
    'sagemaker/tests/feed_ranking/test_feed_ranking_model.py': 'import feed_ranking\n',
    'scripts/feed-ranking/generate-data.ts': '// writes to .local/feed-ranking\nexport {};\n',
    'test/designs/feed-ranking/serve.test.ts': "it('serves', () => expect(1).toBe(1));\n",
    'test/designs/feed-ranking/integ/run.ts': '// deploys into an account\n',
    'test/designs/feed-ranking/__snapshots__/serve.test.ts.snap': 'generated\n',
    'sagemaker/feed_ranking/__pycache__/train.cpython-311.pyc': 'compiled\n',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function treeOf(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out[relative(root, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(root);
  return out;
}

describe('planFork and writeFork', () => {
  const designs = registry(fixtureDesign());
  let root: string;
  beforeEach(() => {
    root = fixtureRepository();
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("copies the pattern's first design under the new id, renamed, and registers it", () => {
    // GIVEN a repository whose only cached-ranking design is feed-ranking
    // WHEN a design is forked from that pattern
    const plan = planFork(root, designs, { id: 'news-ranking', pattern: 'cached-ranking' });
    writeFork(root, plan);

    // THEN every file of its folders is there under the new spellings, but the integration test and
    // generated files
    expect(plan.reference).toBe('feed-ranking');
    const tree = treeOf(root);
    const forked = Object.keys(tree).filter((path) => /news[-_]ranking/.test(path));
    expect(forked.sort()).toEqual([
      'lambda/news-ranking/serve/handler.ts',
      'lib/designs/news-ranking/design.ts',
      'sagemaker/news_ranking/train.py',
      'sagemaker/tests/news_ranking/test_news_ranking_model.py',
      'scripts/news-ranking/generate-data.ts',
      'test/designs/news-ranking/serve.test.ts',
    ]);
    expect(tree['lambda/news-ranking/serve/handler.ts']).toBe("export const TABLE = 'NEWS_RANKING_ITEMS';\n");
    expect(tree['sagemaker/news_ranking/train.py']).toBe('from news_ranking.model import fit\n');
    expect(tree['lib/designs/news-ranking/design.ts']).toContain(
      "summary: 'News ranking (forked from feed-ranking): a fixture design for platform tests'",
    );
    // AND the reference is untouched
    expect(tree['sagemaker/feed_ranking/train.py']).toBe('from feed_ranking.model import fit\n');
    // AND its own npm scripts are copied under the new id; the integration test's is not
    const { scripts } = JSON.parse(tree['package.json']) as { scripts: Record<string, string> };
    expect(scripts).toEqual({
      test: 'jest',
      'ranking:bench': 'sagemaker/bin/py -m feed_ranking.bench',
      'data:generate': 'ts-node --transpile-only scripts/feed-ranking/generate-data.ts',
      integ: 'ts-node --transpile-only test/designs/feed-ranking/integ/run.ts',
      'news-ranking:bench': 'sagemaker/bin/py -m news_ranking.bench',
      'news-ranking:data:generate': 'ts-node --transpile-only scripts/news-ranking/generate-data.ts',
    });
    // AND the registry imports it and lists it last, so the default design stays the first
    expect(tree['lib/designs/index.ts']).toContain("import { newsRanking } from './news-ranking/design';");
    expect(tree['lib/designs/index.ts']).toMatch(
      /\[feedRanking\.id\]: feedRanking,\n {2}\[newsRanking\.id\]: newsRanking,\n\};/,
    );
  });

  it.each([
    ['a bad id', 'Feed_Ranking', /id must be lower-case letters/],
    ['an id that is too long', 'a-design-id-far-too-long', /at most 21 characters/],
    ['a registered id', 'feed-ranking', /feed-ranking is already a registered design/],
    ['an id whose package shadows the shared one', 'common', /Python package common/],
  ])('refuses %s and writes nothing', (_, id, message) => {
    const before = treeOf(root);
    expect(() => planFork(root, designs, { id, pattern: 'cached-ranking' })).toThrow(message);
    expect(treeOf(root)).toEqual(before);
  });

  it('refuses an id whose folders exist already, naming each, and writes nothing', () => {
    mkdirSync(join(root, 'lambda', 'news-ranking'), { recursive: true });
    mkdirSync(join(root, 'sagemaker', 'news_ranking'), { recursive: true });
    const before = treeOf(root);
    let refusal: unknown;
    try {
      planFork(root, designs, { id: 'news-ranking', pattern: 'cached-ranking' });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ForkRefused);
    expect((refusal as ForkRefused).problems).toEqual([
      'id news-ranking: lambda/news-ranking/ already exists',
      'id news-ranking: sagemaker/news_ranking/ already exists',
    ]);
    expect(treeOf(root)).toEqual(before);
  });

  it('refuses a pattern no registered design serves', () => {
    expect(() => planFork(root, designs, { id: 'ink-scoring', pattern: 'realtime-scoring' })).toThrow(
      /--pattern realtime-scoring: no registered design serves this way/,
    );
  });
});

describe('npm run new-design', () => {
  const run = (...args: string[]) =>
    spawnSync(
      process.execPath,
      [require.resolve('ts-node/dist/bin.js'), '--transpile-only', 'scripts/new-design.ts', ...args],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );

  it.each([
    [
      [REGISTERED, '--pattern', 'realtime-scoring'],
      new RegExp(`^new-design: id ${REGISTERED} is already a registered design`),
    ],
    [['Feed', '--pattern', 'cached-ranking'], /^new-design: id must be lower-case letters/],
    [['feed-ranking'], /^new-design: --pattern is required: one of cached-ranking, realtime-scoring/],
    [
      ['feed-ranking', '--pattern', 'batch'],
      /^new-design: --pattern must be one of cached-ranking, realtime-scoring/,
    ],
  ])('%j is refused in one line, exit 2, and writes nothing', (args, message) => {
    const result = run(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(existsSync(join(ROOT, 'lib', 'designs', 'feed-ranking'))).toBe(false);
  });
});
