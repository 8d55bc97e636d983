/**
 * A new design forked from the first registered design of a serving pattern: every file of the
 * reference's folders (lib/platform/config/design-folders.ts) copied under the new id with each
 * spelling of the reference's id rewritten, its npm scripts copied under `<id>:`, and one line in the
 * registry. The fork is planned in memory first and checked whole, so a refused fork writes nothing.
 *
 * What is not copied: the reference's integration test (`test/designs/<ref>/integ/`, which deploys
 * into an account and whose snapshot is the reference's templates) and generated files (caches,
 * jest snapshots, which a fork writes on its first run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { designIdProblem } from '../../lib/platform/config/app-config';
import type { Design, ServingPattern } from '../../lib/platform/config/design';
import { designFolders } from '../../lib/platform/config/design-folders';
import { designNames, renameDesign, type DesignNames } from './names';

const REGISTRY = 'lib/designs/index.ts';
const PRETTIER = require.resolve('prettier/bin/prettier.cjs');
const SKIPPED_NAMES = new Set(['__pycache__', '.pytest_cache', '__snapshots__', 'node_modules']);
/** Python keywords and the packages already under `sagemaker/`, which a package name must not shadow. */
const RESERVED_PACKAGES = new Set([
  'common',
  'tests',
  'bin',
  'and',
  'as',
  'class',
  'def',
  'for',
  'from',
  'if',
  'import',
  'in',
  'is',
  'not',
  'or',
  'pass',
  'with',
  'while',
  'yield',
  'async',
  'await',
]);

export interface ForkRequest {
  readonly id: string;
  readonly pattern: ServingPattern;
}

/** One file the fork writes: its path under the repository root and its content. */
export interface ForkedFile {
  readonly path: string;
  readonly content: Buffer;
}

export interface ForkPlan {
  readonly reference: string;
  readonly names: DesignNames;
  readonly files: readonly ForkedFile[];
  /** npm scripts added to package.json: the new name and the reference's it was copied from. */
  readonly scripts: readonly { readonly name: string; readonly from: string }[];
}

/** The fork cannot be made: every reason, each naming what it concerns. */
export class ForkRefused extends Error {
  override name = 'ForkRefused';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

/** The design a pattern's forks start from: the first registered one that serves that way. */
export function referenceDesign(designs: Readonly<Record<string, Design>>, pattern: ServingPattern): Design {
  const design = Object.values(designs).find((d) => d.pattern === pattern);
  if (!design) throw new ForkRefused([`--pattern ${pattern}: no registered design serves this way`]);
  return design;
}

function* filesUnder(root: string, folder: string): Generator<string> {
  const dir = join(root, folder);
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED_NAMES.has(entry.name) || entry.name.endsWith('.snapshot')) continue;
    const rel = `${folder}${entry.name}`;
    if (entry.isDirectory()) yield* filesUnder(root, `${rel}/`);
    else if (entry.isFile()) yield rel;
  }
}

/** Text that is valid UTF-8 is renamed; anything else (an image, a model) is copied as it is. */
function renameContent(content: Buffer, from: DesignNames, to: DesignNames): Buffer {
  const text = content.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(content)) return content;
  return Buffer.from(renameDesign(text, from, to), 'utf8');
}

/**
 * The design's one-line summary, saying where it started: `Ink score (forked from feed-ranking): …`
 * keeps the reference's description of its model until the fork rewrites it.
 */
function renameSummary(designFile: string, reference: Design, names: DesignNames): string {
  const title = names.kebab.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
  const [, rest = reference.summary] = /^[^:]*:\s*(.*)$/.exec(reference.summary) ?? [];
  const quoted = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const before = `summary: ${quoted(reference.summary)}`;
  if (!designFile.includes(before)) return designFile;
  return designFile.replace(before, `summary: ${quoted(`${title} (forked from ${reference.id}): ${rest}`)}`);
}

/** The reference's npm scripts that run its own files, renamed `<id>:<name>` (its prefix dropped). */
function forkedScripts(
  scripts: Readonly<Record<string, string>>,
  reference: Design,
  names: DesignNames,
): { name: string; from: string; command: string }[] {
  const ref = designNames(reference.id);
  const ownPaths = designFolders(reference.id).filter((folder) => !folder.startsWith('test/'));
  const words = new Set(reference.id.split('-'));
  return Object.entries(scripts)
    .filter(([, command]) => {
      const runsOwnFile = ownPaths.some((folder) => command.includes(folder));
      const runsOwnModule = new RegExp(`-m ${ref.snake}\\.`).test(command);
      return runsOwnFile || runsOwnModule;
    })
    .map(([name, command]) => {
      const [first, ...rest] = name.split(':');
      const own = first === reference.id || words.has(first);
      return {
        name: `${names.kebab}:${own && rest.length > 0 ? rest.join(':') : name}`,
        from: name,
        command: renameDesign(command, ref, names),
      };
    });
}

/** Checks the request against the repository and plans every file; throws ForkRefused. */
export function planFork(
  root: string,
  designs: Readonly<Record<string, Design>>,
  request: ForkRequest,
): ForkPlan & { readonly packageJson: string; readonly registry: string } {
  const problems: string[] = [];
  const idProblem = designIdProblem(request.id);
  if (idProblem) throw new ForkRefused([`id ${idProblem}, got ${JSON.stringify(request.id)}`]);
  const names = designNames(request.id);
  if (Object.hasOwn(designs, request.id)) {
    throw new ForkRefused([`id ${request.id} is already a registered design: pick another id`]);
  }
  if (RESERVED_PACKAGES.has(names.snake)) {
    problems.push(`id ${request.id} would make the Python package ${names.snake}, a name already taken`);
  }
  for (const folder of designFolders(request.id)) {
    if (existsSync(join(root, folder))) problems.push(`id ${request.id}: ${folder} already exists`);
  }
  const reference = referenceDesign(designs, request.pattern);
  const from = designNames(reference.id);

  const files: ForkedFile[] = [];
  const referenceFolders = designFolders(reference.id);
  const newFolders = designFolders(request.id);
  for (const [i, folder] of referenceFolders.entries()) {
    for (const path of filesUnder(root, folder)) {
      const inner = path.slice(folder.length);
      if (folder.startsWith('test/designs/') && inner.split('/')[0] === 'integ') continue;
      const target = `${newFolders[i]}${renameDesign(inner, from, names)}`;
      let content = renameContent(readFileSync(join(root, path)), from, names);
      if (inner === 'design.ts' && folder.startsWith('lib/designs/')) {
        content = Buffer.from(renameSummary(content.toString('utf8'), reference, names), 'utf8');
      }
      files.push({ path: target, content });
    }
  }

  const packageFile = join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(packageFile, 'utf8')) as { scripts: Record<string, string> };
  const scripts = forkedScripts(pkg.scripts, reference, names);
  for (const script of scripts) {
    if (Object.hasOwn(pkg.scripts, script.name)) problems.push(`npm script ${script.name} already exists`);
    pkg.scripts[script.name] = script.command;
  }

  const registry = addToRegistry(readFileSync(join(root, REGISTRY), 'utf8'), names, problems);
  if (problems.length > 0) throw new ForkRefused(problems);
  return {
    reference: reference.id,
    names,
    files,
    scripts: scripts.map(({ name, from }) => ({ name, from })),
    packageJson: `${JSON.stringify(pkg, null, 2)}\n`,
    registry,
  };
}

/** The registry with the new design imported and listed last (the first stays the default). */
function addToRegistry(source: string, names: DesignNames, problems: string[]): string {
  const lines = source.split('\n');
  const isDesignImport = (line: string) => /^import .* from '\.\/[^']+';$/.test(line);
  const lastImport = lines.length - 1 - [...lines].reverse().findIndex(isDesignImport);
  const open = lines.findIndex((line) => /^export const DESIGNS\b/.test(line));
  const close = lines.findIndex((line, i) => i > open && line === '};');
  if (lastImport >= lines.length || open < 0 || close < 0) {
    problems.push(
      'lib/designs/index.ts: cannot find its imports and `export const DESIGNS = { ... };` to add the design to',
    );
    return source;
  }
  lines.splice(close, 0, `  [${names.camel}.id]: ${names.camel},`);
  lines.splice(lastImport + 1, 0, `import { ${names.camel} } from './${names.kebab}/design';`);
  return lines.join('\n');
}

/**
 * Prettier over the written files it formats, with the repository's settings: a longer id can push
 * a line past the print width. Run as its own process, as `npm run format` runs it.
 */
function format(root: string, paths: readonly string[]): void {
  const formatted = paths.filter((path) => /\.(ts|js|json|md)$/.test(path));
  if (formatted.length === 0) return;
  const result = spawnSync(process.execPath, [PRETTIER, '--write', '--log-level', 'warn', ...formatted], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`prettier could not format the fork: ${(result.stderr || String(result.error)).trim()}`);
  }
}

/** Writes a planned fork: its files, package.json and the registry; returns their paths. */
export function writeFork(root: string, plan: ReturnType<typeof planFork>): readonly string[] {
  for (const file of plan.files) {
    const target = join(root, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content, { flag: 'wx' });
  }
  writeFileSync(join(root, 'package.json'), plan.packageJson);
  writeFileSync(join(root, REGISTRY), plan.registry);
  const written = [...plan.files.map((file) => file.path), 'package.json', REGISTRY];
  format(root, written);
  return written;
}
