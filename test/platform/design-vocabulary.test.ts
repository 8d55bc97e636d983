import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DESIGNS } from '../../lib/designs';
import { designFolders } from '../../lib/platform/config/design-folders';

/**
 * The platform knows nothing of any design: no file outside a design's own folders speaks of
 * artists, songs or ads. A platform file that does is a design decision in the wrong place, and a
 * fork for another design would have to edit it.
 */
const ROOT = join(__dirname, '..', '..');
const SCANNED = ['bin', 'lib', 'lambda', 'sagemaker', 'sql', 'scripts', 'bench', 'test', '.ci'];
const SKIPPED = new Set(['node_modules', '__pycache__', '.pytest_cache', 'aws-api-models', '__snapshots__']);
const DESIGN_WORDS: readonly RegExp[] = [
  /artist/i,
  /\bsongs?\b/i,
  /\bads?\b/i,
  /\bad[-_]/i,
  /\bad[A-Z]/,
  /[a-z]Ads?(?![a-z])/,
];

/** The registry and every registered design's own folders (lib/platform/config/design-folders.ts). */
function allowedFolders(): string[] {
  return ['lib/designs/index.ts', ...Object.keys(DESIGNS).flatMap((id) => designFolders(id))];
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || entry.name.endsWith('.snapshot')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile() && statSync(path).size < 2_000_000) yield path;
  }
}

describe('design vocabulary', () => {
  it('appears only in the design folders', () => {
    const allowed = allowedFolders();
    const offenders: string[] = [];
    for (const top of SCANNED) {
      for (const file of files(join(ROOT, top))) {
        const rel = relative(ROOT, file).split(sep).join('/');
        if (allowed.some((prefix) => rel === prefix || rel.startsWith(prefix))) continue;
        if (rel === 'test/platform/design-vocabulary.test.ts') continue;
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            const word = DESIGN_WORDS.find((pattern) => pattern.test(line));
            if (word) offenders.push(`${rel}:${i + 1}: ${line.trim().slice(0, 120)}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });

  it('would catch each kind of design word', () => {
    const caught = [
      'top_artists',
      'artistId',
      'their songs',
      'ads served',
      'ad_category',
      'adId',
      'scoreAds',
    ];
    const missed = ['loads', 'threads', 'adapter', 'broadcast', 'Adam optimiser', 'padding'];
    expect(caught.filter((text) => !DESIGN_WORDS.some((p) => p.test(text)))).toEqual([]);
    expect(missed.filter((text) => DESIGN_WORDS.some((p) => p.test(text)))).toEqual([]);
  });
});
