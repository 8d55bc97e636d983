import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Stack } from 'aws-cdk-lib';
import * as tar from 'tar';
import { BootstrapModel } from '../../lib/platform/constructs/ml/bootstrap-model';
import { DESIGNS } from '../../lib/designs';

const ROOT = path.join(__dirname, '..', '..');

function entries(tarball: string): string[] {
  const found: string[] = [];
  tar.t({ file: tarball, sync: true, onReadEntry: (e) => found.push(e.path) });
  return found.sort();
}

/** Starts the design's local stand-in for the inference container on the unpacked model; resolves its URL. */
async function serve(pkg: string, modelDir: string): Promise<{ server: ChildProcess; base: string }> {
  const server = spawn(
    path.join(ROOT, 'sagemaker', 'bin', 'py'),
    ['-m', `${pkg}.local_server`, '--model-dir', modelDir, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const first = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`${pkg}.local_server did not start in 45 s`)), 45_000);
    readline.createInterface({ input: server.stdout! }).once('line', (line) => {
      clearTimeout(deadline);
      resolve(line);
    });
    server.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`${pkg}.local_server exited with ${code}`));
    });
  });
  expect(first).toMatch(/^listening on /);
  return { server, base: first.split(' ').pop()! };
}

/**
 * Every design's bootstrap model, as the Ml stack packs it: the archive holds the inference code,
 * packs to the same bytes on every synth (or every deploy would replace the model), and loads in the
 * container contract (`GET /ping`) with the same handler functions the PyTorch toolkit calls.
 */
describe.each(Object.values(DESIGNS).map((design) => [design.id, design] as const))(
  'bootstrap model of %s',
  (_id, design) => {
    const pkg = design.model.packages.find((name) => name !== 'common')!;
    let server: ChildProcess | undefined;
    afterAll(() => {
      server?.kill();
    });

    test('holds code/inference.py and packs to the same bytes every time', () => {
      const first = new BootstrapModel(new Stack(), 'Bootstrap', { files: design.model.bootstrapModel() });
      const second = new BootstrapModel(new Stack(), 'Bootstrap', { files: design.model.bootstrapModel() });
      expect(entries(first.bundle.localPath)).toContain('code/inference.py');
      expect(second.bundle.asset.assetHash).toBe(first.bundle.asset.assetHash);
    });

    test('loads in the inference container contract and answers /ping', async () => {
      const model = new BootstrapModel(new Stack(), 'Bootstrap', { files: design.model.bootstrapModel() });
      const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-model-'));
      tar.x({ file: model.bundle.localPath, cwd: modelDir, sync: true });
      const started = await serve(pkg, modelDir);
      server = started.server;
      const ping = await fetch(`${started.base}/ping`, { signal: AbortSignal.timeout(10_000) });
      expect(ping.status).toBe(200);
    }, 60_000);
  },
);

describe('BootstrapModel files', () => {
  test('GIVEN no handler, a path leaving the archive and a missing file THEN one error names each', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-bad-'));
    fs.writeFileSync(path.join(dir, 'weights.bin'), 'w');
    expect(
      () =>
        new BootstrapModel(new Stack(), 'Bootstrap', {
          files: {
            'weights.bin': path.join(dir, 'weights.bin'),
            '../outside.json': path.join(dir, 'weights.bin'),
            'config.json': path.join(dir, 'missing.json'),
          },
        }),
    ).toThrow(
      /code\/inference\.py: required[\s\S]*"\.\.\/outside\.json": a relative path[\s\S]*config\.json: .*missing\.json is not a file/,
    );
  });
});
