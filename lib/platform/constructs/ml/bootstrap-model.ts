import * as fs from 'node:fs';
import * as path from 'node:path';
import { Construct } from 'constructs';
import { INFERENCE_CODE_MEMBER } from './endpoint-hosting';
import { SourceBundle } from './source-bundle';

export interface BootstrapModelProps {
  /**
   * The files of the `model.tar.gz`: path inside the archive -> file on this machine. It must hold
   * `code/inference.py`, the handlers the inference container loads, and whatever they read.
   */
  readonly files: Readonly<Record<string, string>>;
}

/**
 * The model a fresh deployment serves before its first training run, packed at synth time from
 * the design's files. The archive is deterministic, so unchanged files keep the asset hash and a
 * deploy replaces nothing.
 */
export class BootstrapModel extends Construct {
  public readonly bundle: SourceBundle;

  constructor(scope: Construct, id: string, props: BootstrapModelProps) {
    super(scope, id);
    const problems = bootstrapFileProblems(props.files);
    if (problems.length > 0) {
      throw new Error(`Invalid BootstrapModel files:\n  - ${problems.join('\n  - ')}`);
    }
    this.bundle = new SourceBundle(this, 'Model', { extraFiles: props.files });
  }
}

/** Every problem of a file map, each naming its member. */
export function bootstrapFileProblems(files: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  if (!Object.hasOwn(files, INFERENCE_CODE_MEMBER)) {
    problems.push(`${INFERENCE_CODE_MEMBER}: required, the container loads its handlers from it`);
  }
  for (const [member, source] of Object.entries(files)) {
    const normal = path.posix.normalize(member);
    if (member === '' || path.posix.isAbsolute(member) || normal !== member || normal.startsWith('..')) {
      problems.push(`${JSON.stringify(member)}: a relative path inside the archive, without '.' or '..'`);
    }
    if (!fs.existsSync(source) || !fs.statSync(source).isFile()) {
      problems.push(`${member}: ${source} is not a file`);
    }
  }
  return problems;
}
