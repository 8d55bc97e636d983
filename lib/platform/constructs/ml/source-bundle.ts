import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as tar from 'tar';
import { Construct } from 'constructs';

export interface SourceBundleProps {
  /** Directory to pack. @default - none: the bundle holds `extraFiles` only */
  readonly directory?: string;
  /** Top-level entries of the directory to pack, e.g. the shared and the design's packages. @default - all */
  readonly include?: readonly string[];
  /** Relative paths (files or directories) to leave out, e.g. tests. @default - none */
  readonly exclude?: readonly string[];
  /**
   * Files to add at paths of their own inside the bundle, e.g. `code/inference.py` from elsewhere.
   * @default - none
   */
  readonly extraFiles?: Readonly<Record<string, string>>;
}

/**
 * A directory packed as a gzipped tarball and uploaded as a file asset: the `sourcedir.tar.gz` that
 * SageMaker script mode unpacks, or a `model.tar.gz`. The tarball is deterministic (sorted entries,
 * fixed mtimes and owners, no gzip timestamp), so an unchanged tree keeps its asset hash and a
 * deploy uploads and replaces nothing.
 */
export class SourceBundle extends Construct {
  public readonly asset: s3assets.Asset;
  /** `s3://bucket/key` of the uploaded tarball. */
  public readonly s3Uri: string;
  /** The tarball on this machine, as packed at synth time. */
  public readonly localPath: string;

  constructor(scope: Construct, id: string, props: SourceBundleProps) {
    super(scope, id);
    this.localPath = packDeterministic(
      props.directory,
      props.exclude ?? [],
      props.extraFiles ?? {},
      props.include,
    );
    this.asset = new s3assets.Asset(this, 'Asset', { path: this.localPath });
    this.s3Uri = this.asset.s3ObjectUrl;
  }

  /** Lets `grantee` read this tarball, and no other object of the assets bucket. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.asset.bucket.grantRead(grantee, this.asset.s3ObjectKey);
  }
}

const ALWAYS_EXCLUDED = new Set(['__pycache__', '.pytest_cache', '.DS_Store']);

/** Packs into a temporary file named by its content hash and returns the path. */
export function packDeterministic(
  directory: string | undefined,
  exclude: readonly string[],
  extraFiles: Readonly<Record<string, string>>,
  include?: readonly string[],
): string {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'source-bundle-'));
  const excluded = new Set(exclude.map((p) => path.normalize(p)));
  const files = (directory === undefined ? [] : listFiles(directory, '', excluded)).filter(
    (file) => include === undefined || include.includes(file.split(path.sep)[0]),
  );
  for (const file of files) copyFile(path.join(directory!, file), path.join(staging, file));
  for (const [target, source] of Object.entries(extraFiles)) copyFile(source, path.join(staging, target));
  const entries = [...new Set([...files, ...Object.keys(extraFiles).map((p) => path.normalize(p))])].sort();

  const tarPath = path.join(staging, '..', `${path.basename(staging)}.tar`);
  tar.c(
    { file: tarPath, cwd: staging, sync: true, portable: true, mtime: new Date(0), noDirRecurse: true },
    entries,
  );
  const gzipped = gzipDeterministic(fs.readFileSync(tarPath));
  fs.rmSync(tarPath);
  fs.rmSync(staging, { recursive: true });
  const hash = crypto.createHash('sha256').update(gzipped).digest('hex').slice(0, 16);
  const out = path.join(os.tmpdir(), `source-bundle-${hash}.tar.gz`);
  fs.writeFileSync(out, gzipped);
  return out;
}

function listFiles(root: string, relative: string, excluded: ReadonlySet<string>): string[] {
  const entries = fs.readdirSync(path.join(root, relative), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const rel = path.join(relative, entry.name);
    if (ALWAYS_EXCLUDED.has(entry.name) || entry.name.endsWith('.pyc') || excluded.has(rel)) continue;
    if (entry.isDirectory()) files.push(...listFiles(root, rel, excluded));
    else if (entry.isFile()) files.push(rel);
  }
  return files;
}

function copyFile(source: string, target: string): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(source, target);
  // Only the executable bit survives: umask and checkout differences must not change the hash.
  const executable = (fs.statSync(source).mode & 0o111) !== 0;
  fs.chmodSync(target, executable ? 0o755 : 0o644);
}

function gzipDeterministic(data: Buffer): Buffer {
  // zlib writes a zero mtime and a fixed OS byte, so equal input gives equal bytes.
  return zlib.gzipSync(data, { level: 9 });
}
