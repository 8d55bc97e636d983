/**
 * The integration test's snapshot: the cloud assembly of `integ.sandbox.ts`, committed in
 * `integ.sandbox.ts.snapshot/` (integ-runner's name and layout), and the no-deploy check against it.
 *
 *   npx ts-node --transpile-only test/designs/artist-recommender/integ/snapshot.ts update    # npm run integ:update
 *   npx ts-node --transpile-only test/designs/artist-recommender/integ/snapshot.ts check     # what snapshot.test.ts runs
 *
 * The check has integ-runner's semantics for a test without the update workflow and without
 * `diffAssets`: every stack's template must equal the snapshot's once asset hashes are masked;
 * anything else means the committed snapshot no longer describes what `npm run integ` would deploy.
 * Two more values are masked: the `salt` integ-tests-alpha stamps on each assertion (`Date.now()`,
 * so CloudFormation reruns it on every deployment) and the assembly's schema version.
 *
 * The snapshot keeps the templates, asset manifests, `integ.json` and a manifest listing them: not
 * the assets (each run builds them), `tree.json` or the construct metadata, which no check reads.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cli, runMain } from '../../../../scripts/support/cli';
import { buildSandboxIntegApp } from './sandbox-integ-app';

export const SNAPSHOT_DIR = path.join(__dirname, 'integ.sandbox.ts.snapshot');

interface Manifest {
  version: string;
  artifacts: Record<
    string,
    { type: string; properties?: { templateFile?: string; file?: string }; [key: string]: unknown }
  >;
  [key: string]: unknown;
}

export interface Assembly {
  /** Template of each stack, by artifact id. */
  readonly templates: Record<string, unknown>;
  /** `integ.json` without its schema version. */
  readonly integ: unknown;
}

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Synthesizes the integration test app into `outdir` (in this process, as `cdk synth` would). */
export function synthesize(outdir: string): void {
  buildSandboxIntegApp({ outdir }).app.synth();
}

export function readAssembly(dir: string): Assembly {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new Error(`${dir} holds no cloud assembly (no manifest.json)`);
  const manifest = readJson(manifestFile) as Manifest;
  const templates: Record<string, unknown> = {};
  for (const [id, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    templates[id] = readJson(path.join(dir, artifact.properties!.templateFile!));
  }
  // The schema and CLI versions follow aws-cdk-lib, not the app.
  const integ = readJson(path.join(dir, 'integ.json')) as Record<string, unknown>;
  delete integ.version;
  delete integ.minimumCliVersion;
  return { templates, integ };
}

const ASSET_HASH = /[0-9a-f]{64}/g;

/** A template as the check compares it: asset hashes and assertion salts masked. */
export function canonical(template: unknown): unknown {
  const masked = JSON.parse(JSON.stringify(template).replace(ASSET_HASH, '[ASSET HASH]')) as {
    Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  };
  for (const resource of Object.values(masked.Resources ?? {})) {
    if (
      resource.Type?.startsWith('Custom::DeployAssert') &&
      resource.Properties &&
      'salt' in resource.Properties
    ) {
      resource.Properties.salt = '[SALT]';
    }
  }
  return masked;
}

/** Paths where `a` and `b` differ, as `Stack: Resources.X.Properties.Y: <expected> -> <actual>`. */
function differences(a: unknown, b: unknown, at: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (
    typeof a === 'object' &&
    a !== null &&
    typeof b === 'object' &&
    b !== null &&
    Array.isArray(a) === Array.isArray(b)
  ) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      differences(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        at ? `${at}.${key}` : key,
        out,
        limit,
      );
    }
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const show = (value: unknown) => (value === undefined ? '(absent)' : JSON.stringify(value).slice(0, 160));
  out.push(`${at}: ${show(a)} -> ${show(b)}`);
}

/**
 * Every way `actual` differs from the committed `expected` snapshot: stacks added or removed, and up
 * to `perStack` changed values per template. Empty when the snapshot is current.
 */
export function compareAssemblies(expected: Assembly, actual: Assembly, perStack = 20): string[] {
  const problems: string[] = [];
  for (const id of Object.keys(expected.templates)) {
    if (!(id in actual.templates)) problems.push(`${id}: in the snapshot, not in the app`);
  }
  for (const [id, template] of Object.entries(actual.templates)) {
    if (!(id in expected.templates)) {
      problems.push(`${id}: in the app, not in the snapshot`);
      continue;
    }
    const changed: string[] = [];
    differences(canonical(expected.templates[id]), canonical(template), '', changed, perStack);
    problems.push(...changed.map((change) => `${id}: ${change}`));
  }
  const changed: string[] = [];
  differences(expected.integ, actual.integ, '', changed, perStack);
  problems.push(...changed.map((change) => `integ.json: ${change}`));
  return problems;
}

/** Synthesizes into a temporary directory and compares with the committed snapshot. */
export function checkSnapshot(snapshotDir = SNAPSHOT_DIR): string[] {
  if (!fs.existsSync(snapshotDir)) return [`no snapshot at ${snapshotDir}: run npm run integ:update`];
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-synth-'));
  try {
    synthesize(outdir);
    return compareAssemblies(readAssembly(snapshotDir), readAssembly(outdir));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Writes the snapshot files of the assembly in `outdir`, formatted as prettier formats the repository. */
export async function writeSnapshot(outdir: string, snapshotDir = SNAPSHOT_DIR): Promise<string[]> {
  const prettier = await import('prettier');
  const options = { ...(await prettier.resolveConfig(path.join(snapshotDir, 'x.json'))), parser: 'json' };
  const manifest = readJson(path.join(outdir, 'manifest.json')) as Manifest;
  const kept: Manifest['artifacts'] = {};
  const files = ['integ.json', 'cdk.out'];
  for (const [id, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type === 'aws:cloudformation:stack') {
      // The construct metadata is left out of the snapshot, so the manifest does not point to it.
      const rest = { ...artifact };
      delete rest.additionalMetadataFile;
      kept[id] = rest;
      files.push(artifact.properties!.templateFile!);
    } else if (artifact.type === 'cdk:asset-manifest') {
      kept[id] = artifact;
      files.push(artifact.properties!.file!);
    }
  }
  fs.rmSync(snapshotDir, { recursive: true, force: true });
  fs.mkdirSync(snapshotDir, { recursive: true });
  const write = async (name: string, value: unknown) =>
    fs.writeFileSync(path.join(snapshotDir, name), await prettier.format(JSON.stringify(value), options));
  await write('manifest.json', { ...manifest, artifacts: kept });
  for (const name of files) await write(name, readJson(path.join(outdir, name)));
  return ['manifest.json', ...files];
}

/** The command line of `npm run integ:snapshot` (`check`) and `npm run integ:update` (`update`). */
function snapshotCli(): Cli {
  return new Cli({
    name: 'integ:snapshot',
    usage: 'npx ts-node --transpile-only test/designs/artist-recommender/integ/snapshot.ts',
    description:
      "The integration test's snapshot: `check` synthesizes test/designs/artist-recommender/integ/integ.sandbox.ts and compares it with " +
      'the committed snapshot (npm run integ:snapshot); `update` rewrites the snapshot (npm run integ:update).',
    notes: 'No AWS account needed: both only synthesize.',
    exitCodes: { 1: 'check: the snapshot is stale (the differences are listed)' },
  }).argument('command', 'what to do', ['check', 'update']);
}

async function main(argv: readonly string[]): Promise<number> {
  const { command } = snapshotCli().parse<{ command: 'check' | 'update' }>(argv);
  if (command === 'update') {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-synth-'));
    try {
      synthesize(outdir);
      const files = await writeSnapshot(outdir);
      const bytes = files.reduce((sum, name) => sum + fs.statSync(path.join(SNAPSHOT_DIR, name)).size, 0);
      console.log(
        `wrote ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB, to ` +
          `${path.relative(process.cwd(), SNAPSHOT_DIR)}: ${files.join(', ')}`,
      );
      return 0;
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }
  const problems = checkSnapshot();
  if (problems.length === 0) {
    console.log('integration test snapshot is current: nothing would deploy differently');
    return 0;
  }
  console.error(`integration test snapshot is stale (npm run integ:update):\n  ${problems.join('\n  ')}`);
  return 1;
}

if (require.main === module) {
  runMain('integ:snapshot', () => main(process.argv.slice(2)));
}
