import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ScoredItem } from '../../../lambda/artist-recommender/shared/cache-layout';

/**
 * What a fresh deployment serves before its first training run: a demo catalogue's popularity
 * ranking. The first training run on real data replaces it, and the loaded set with it.
 */
export const BOOTSTRAP_POPULARITY: readonly ScoredItem[] = Array.from({ length: 50 }, (_, i) => ({
  artistId: `artist-${String(i + 1).padStart(4, '0')}`,
  score: Number((1 / (1 + i * 0.1)).toFixed(4)),
}));

/** The model version of everything bootstrapped; the first promoted training run replaces it. */
export const BOOTSTRAP_MODEL_VERSION = 'bootstrap';

/**
 * The bootstrap `model.tar.gz`: a popularity model (`config.json` of kind `popularity`, which
 * `sagemaker/artist_recommender/inference.py` serves to every user) with the real inference code,
 * so the endpoint is InService from the first deploy. Written at synth time into a folder named by
 * the content's hash: the same popularity list gives the same files, the same archive and the same
 * asset hash.
 */
export function bootstrapModelFiles(
  inferenceCode: string,
  popularity: readonly ScoredItem[] = BOOTSTRAP_POPULARITY,
): Record<string, string> {
  const dir = writeFiles('artist-recommender-bootstrap-model', {
    'config.json': JSON.stringify(
      { kind: 'popularity', model_version: BOOTSTRAP_MODEL_VERSION, threshold: 0, popularity },
      null,
      2,
    ),
    // The container installs what this lists at start; the inference image already has everything.
    'requirements.txt': '# inference needs only what the PyTorch inference image ships\n',
  });
  return {
    'config.json': path.join(dir, 'config.json'),
    'code/inference.py': inferenceCode,
    'code/requirements.txt': path.join(dir, 'requirements.txt'),
  };
}

/**
 * Writes `files` into `<tmp>/<name>-<hash of the files>/` and returns the folder. Content-addressed,
 * so a second call with the same content reuses the folder and a changed content never reads a
 * stale file.
 */
export function writeFiles(name: string, files: Readonly<Record<string, string>>): string {
  const hash = crypto
    .createHash('sha256')
    .update(JSON.stringify(Object.entries(files).sort()))
    .digest('hex');
  const dir = path.join(os.tmpdir(), `${name}-${hash.slice(0, 16)}`);
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    // Written beside it, then renamed over it: rename is atomic, so a process that packs the folder
    // while another synth (a parallel test worker) writes it never reads half a file.
    const partial = `${target}.${process.pid}.partial`;
    fs.writeFileSync(partial, content);
    fs.renameSync(partial, target);
  }
  return dir;
}
