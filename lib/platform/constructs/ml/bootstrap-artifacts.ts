import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Construct } from 'constructs';
import type { ScoredItem } from '../../../../lambda/artist-recommender/shared/cache-layout';
import { TRAINING_OUTPUT_FILES } from './artifact-layout';
import { SourceBundle } from './source-bundle';

export interface BootstrapArtifactsProps {
  /** The list served before any training: a popularity ranking with scores in [0, 1]. */
  readonly popularity: readonly ScoredItem[];
  /** The inference handler (`model_fn`, `input_fn`, `predict_fn`, `output_fn`) to ship as `code/inference.py`. */
  readonly inferenceCode: string;
}

/** The model version of everything bootstrapped; the first training run replaces it. */
export const BOOTSTRAP_MODEL_VERSION = 'bootstrap';

/**
 * What lets a fresh deployment serve before its first training run, built from the repository at
 * synth time, deterministically:
 * - `model`: a `model.tar.gz` of a popularity model (`config.json` of kind `popularity`) with the
 *   real inference code, so the endpoint comes up InService on the first deploy;
 * - `recommendationSet`: an archive shaped like a training job's `output.tar.gz` (no user lists,
 *   the popularity list), which the cache loader loads like any other.
 */
export class BootstrapArtifacts extends Construct {
  public readonly model: SourceBundle;
  public readonly recommendationSet: SourceBundle;

  constructor(scope: Construct, id: string, props: BootstrapArtifactsProps) {
    super(scope, id);
    const popularity = { model_version: BOOTSTRAP_MODEL_VERSION, items: props.popularity };

    const modelDir = stage({
      'config.json': JSON.stringify(
        {
          kind: 'popularity',
          model_version: BOOTSTRAP_MODEL_VERSION,
          threshold: 0,
          popularity: props.popularity,
        },
        null,
        2,
      ),
      // The container installs what this lists at start; the DLC already has everything needed.
      'code/requirements.txt': '# inference needs only what the PyTorch inference image ships\n',
    });
    this.model = new SourceBundle(this, 'Model', {
      directory: modelDir,
      extraFiles: { 'code/inference.py': props.inferenceCode },
    });

    this.recommendationSet = new SourceBundle(this, 'RecommendationSet', {
      directory: stage({
        [TRAINING_OUTPUT_FILES.recommendations]: '',
        [TRAINING_OUTPUT_FILES.popularity]: JSON.stringify(popularity),
      }),
    });
  }
}

/** Writes files into a fresh temporary directory. */
function stage(files: Readonly<Record<string, string>>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
