/**
 * `npm run new-design -- <id> --pattern cached-ranking|realtime-scoring`: a new design that works
 * before a line of it changes, forked from the first registered design of that serving pattern
 * (scripts/new-design/fork.ts says what is copied and renamed), and registered for `-c design=<id>`.
 * A bad or taken id is refused with every reason at once, and nothing is written.
 */
import { join } from 'node:path';
import { DESIGNS } from '../lib/designs';
import { designIdProblem } from '../lib/platform/config/app-config';
import { SERVING_PATTERNS, type ServingPattern } from '../lib/platform/config/design';
import { Cli, UsageError, oneOf, runMain, type Value } from './support/cli';
import { ForkRefused, planFork, writeFork } from './new-design/fork';

const ROOT = join(__dirname, '..');

const designId: Value<string> = {
  expects: "a new design id such as feed-ranking: lower-case words joined by '-'",
  parse(text) {
    const problem = designIdProblem(text);
    if (problem) throw new Error(problem.replace(/^must be /, ''));
    return text;
  },
};

const cli = new Cli({
  name: 'new-design',
  usage: 'npm run new-design --',
  description:
    'Creates a design that synthesizes, passes its tests and runs e2e:local as it is: the first registered design of the pattern, copied under the new id.',
  notes: [
    'Patterns and the design each starts from:',
    ...SERVING_PATTERNS.map((p) => {
      const from = Object.values(DESIGNS).find((d) => d.pattern === p);
      return `  ${p.padEnd(17)} ${from ? from.id : '(no registered design)'}`;
    }),
    '',
    'Writes lib/designs/<id>/, lambda/<id>/, sql/<id>/, scripts/<id>/, bench/<id>/, test/designs/<id>/,',
    "sagemaker/<id with _>/ and its tests, the design's npm scripts as <id>:<name>, and one line in",
    'lib/designs/index.ts. Then: npx cdk synth -c design=<id>, npx jest test/designs/<id>,',
    'npm run e2e:local -- --design <id>, npm run docs, npm run cost -- -c design=<id>.',
  ].join('\n'),
})
  .positional('id', 'the new design id', designId)
  .option('--pattern <name>', 'how the design serves', oneOf(SERVING_PATTERNS), undefined, 'required');

runMain(cli.name, async () => {
  const options = cli.parse<{ id: string; pattern?: ServingPattern }>(process.argv.slice(2), (o, problem) => {
    if (o.pattern === undefined) problem(`--pattern is required: one of ${SERVING_PATTERNS.join(', ')}`);
  });
  let plan;
  try {
    plan = planFork(ROOT, DESIGNS, { id: options.id, pattern: options.pattern! });
  } catch (error) {
    if (error instanceof ForkRefused) throw new UsageError(error.message);
    throw error;
  }
  const written = writeFork(ROOT, plan);
  const lines = [
    `${options.id}: forked from ${plan.reference} (${options.pattern}), ${written.length} files written`,
    ...plan.scripts.map((s) => `  npm run ${s.name}  (from ${s.from})`),
    'next:',
    `  npx cdk synth -c design=${options.id} -c profile=sandbox`,
    `  npx jest test/designs/${options.id}`,
    `  sagemaker/bin/py -m pytest -q sagemaker/tests/${plan.names.snake}`,
    `  npm run e2e:local -- --design ${options.id}`,
    '  npm run docs',
    `  npm run cost -- -c design=${options.id}`,
    '  npm run cost -- --markdown   (its tables go in README.md "Costs")',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
});
