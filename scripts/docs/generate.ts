/**
 * `npm run docs`: writes, for every registered design, its page (`docs/designs/<id>.md`: the six
 * steps of the framework, filled from the design and its synthesized app) and its architecture
 * diagram (`docs/designs/<id>.svg`). `--check` writes nothing and fails when a file differs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Cli, EXIT, runMain } from '../support/cli';
import { allDesignDocs, DOCS_FOLDER } from './design-docs';
import { staleFiles } from './stale-files';

const ROOT = path.join(__dirname, '..', '..');

const cli = new Cli({
  name: 'docs',
  usage: 'npm run docs --',
  description:
    "Writes each registered design's page and architecture diagram into docs/designs/, from the design object and the app synthesized in this process (both profiles; no AWS account).",
  notes: 'Files no longer generated (a design removed) are deleted from docs/designs/, or named by --check.',
  exitCodes: { [EXIT.failed]: 'the app did not synthesize, or (--check) a file is stale' },
}).flag('--check', 'write nothing; exit 1 naming every file that is missing, stale or no longer generated');

interface Options {
  readonly check: boolean;
}

runMain(cli.name, () => {
  const options = cli.parse<Options>(process.argv.slice(2));
  const started = Date.now();
  const expected = allDesignDocs();
  const stale = staleFiles(ROOT, DOCS_FOLDER, expected);
  if (options.check) {
    if (stale.length === 0) return EXIT.ok;
    console.error(`docs: stale, run npm run docs: ${stale.join(', ')}`);
    return EXIT.failed;
  }
  fs.mkdirSync(path.join(ROOT, DOCS_FOLDER), { recursive: true });
  for (const file of stale) {
    const content = expected.get(file);
    if (content === undefined) fs.rmSync(path.join(ROOT, file));
    else fs.writeFileSync(path.join(ROOT, file), content);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `docs: ${expected.size} files in ${DOCS_FOLDER}/, ${stale.length} written or removed (${seconds} s)`,
  );
  return EXIT.ok;
});
