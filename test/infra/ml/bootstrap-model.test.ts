import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Stack } from 'aws-cdk-lib';
import * as tar from 'tar';
import { BootstrapArtifacts } from '../../../lib/platform/constructs/ml/bootstrap-artifacts';
import { artistRecommender } from '../../../lib/designs/artist-recommender/design';

const ROOT = path.join(__dirname, '..', '..', '..');

/**
 * The bootstrap model is built in TypeScript and served by the Python inference handler: this test
 * unpacks the very tarball the Ml stack uploads and serves it through the container contract
 * (`GET /ping`, `POST /invocations`) with the same handler functions the PyTorch toolkit calls.
 */
describe('bootstrap model', () => {
  let server: ChildProcess;
  let base: string;

  beforeAll(async () => {
    const artifacts = new BootstrapArtifacts(new Stack(), 'Bootstrap', {
      popularity: artistRecommender.model.bootstrapPopularity,
      inferenceCode: artistRecommender.model.inferenceCode,
    });
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-model-'));
    tar.x({ file: artifacts.model.localPath, cwd: modelDir, sync: true });
    server = spawn(
      path.join(ROOT, 'sagemaker', 'bin', 'py'),
      ['-m', 'recommender.local_server', '--model-dir', modelDir, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const first = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: server.stdout! }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`local server exited with ${code}`)));
    });
    expect(first).toMatch(/^listening on /);
    base = first.split(' ').pop()!;
  }, 60_000);

  afterAll(() => {
    server?.kill();
  });

  test('the archive holds the inference code and a popularity config, and nothing to install', () => {
    const artifacts = new BootstrapArtifacts(new Stack(), 'Bootstrap', {
      popularity: artistRecommender.model.bootstrapPopularity,
      inferenceCode: artistRecommender.model.inferenceCode,
    });
    const entries: string[] = [];
    tar.t({ file: artifacts.model.localPath, sync: true, onReadEntry: (e) => entries.push(e.path) });
    expect(entries.sort()).toEqual(['code/inference.py', 'code/requirements.txt', 'config.json']);
  });

  test('answers /ping and serves the popularity list through /invocations, k and exclusions respected', async () => {
    expect((await fetch(`${base}/ping`)).status).toBe(200);
    const response = await fetch(`${base}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ user_id: 'anyone', k: 3, exclude: ['artist-0001'] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      model_version: 'bootstrap',
      items: artistRecommender.model.bootstrapPopularity.slice(1, 4),
    });
  });
});
