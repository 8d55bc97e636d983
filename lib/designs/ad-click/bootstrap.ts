import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The model version a fresh deployment serves until its first training run is promoted. */
export const BOOTSTRAP_MODEL_VERSION = 'bootstrap';

/**
 * The model served before the first training run: the global prior CTR for every candidate, in the
 * artefact format `sagemaker/ad_click/inference.py` loads (`model_type: constant`, no weights), so
 * the endpoint comes up InService on the first deploy and answers calibrated on average.
 */
export function bootstrapModelFiles(priorCtr: number, inferenceCode: string): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ad-click-bootstrap-'));
  const manifest = path.join(dir, 'manifest.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify(
      {
        format: 'ad-click-ctr/1',
        model_type: 'constant',
        ctr: priorCtr,
        model_version: BOOTSTRAP_MODEL_VERSION,
      },
      null,
      2,
    ),
  );
  const requirements = path.join(dir, 'requirements.txt');
  // The container installs what this lists at start; the inference image already has everything.
  fs.writeFileSync(requirements, '# inference needs only what the PyTorch inference image ships\n');
  return {
    'manifest.json': manifest,
    'code/inference.py': inferenceCode,
    'code/requirements.txt': requirements,
  };
}
