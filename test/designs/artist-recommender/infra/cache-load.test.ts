import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as tar from 'tar';
import { PROFILES } from '../../../../lib/platform/config/profile';
import { BootstrapModel } from '../../../../lib/platform/constructs/ml/bootstrap-model';
import type { MlStack } from '../../../../lib/platform/stacks/ml-stack';
import {
  BOOTSTRAP_POPULARITY,
  bootstrapModelFiles,
} from '../../../../lib/designs/artist-recommender/bootstrap';
import { loadBootstrapCache } from '../../../../lib/designs/artist-recommender/bootstrap-cache-load';
import { loadCacheAfterPromotion } from '../../../../lib/designs/artist-recommender/cache-load';
import { artistRecommender } from '../../../../lib/designs/artist-recommender/design';

const ROOT = path.join(__dirname, '..', '..', '..', '..');

function loaderStack() {
  const stack = new Stack(new App(), 'Recommender');
  const loader = new lambda.Function(stack, 'Loader', {
    runtime: lambda.Runtime.NODEJS_20_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  return { stack, loader };
}

describe('LoadCache, the step after a promotion', () => {
  test("loads the promoted run's archive for the champion variant, its summary published with the promotion", () => {
    const { stack, loader } = loaderStack();
    const artifacts = new s3.Bucket(stack, 'Artifacts');
    const step = loadCacheAfterPromotion({ loader, artifacts, key: new kms.Key(stack, 'Key') });
    const chain = step(stack, {
      artifacts,
      runNamePath: '$.run.jobName',
      outputArchiveKey: "States.Format('models/{}/output/output.tar.gz', $.run.jobName)",
      championVariant: 'champion',
      resultPath: '$.afterPromotion',
    });
    const state = stack.resolve(chain.startState.toStateJson()) as Record<string, unknown>;
    expect(chain.startState.id).toBe('LoadCache');
    expect(state).toMatchObject({
      ResultPath: '$.afterPromotion',
      Parameters: {
        bucket: { Ref: expect.stringMatching(/^Artifacts/) },
        'archiveKey.$': "States.Format('models/{}/output/output.tar.gz', $.run.jobName)",
        recommendationsMember: 'recommendations.jsonl',
        popularityMember: 'popularity.json',
        variant: 'champion',
      },
    });
    // The loader reads what training jobs write, through the data key.
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    expect(JSON.stringify(statements)).toContain('/models/*');
    expect(statements.some((s) => [s.Action].flat().includes('kms:Decrypt'))).toBe(true);
  });
});

describe('the bootstrap set, loaded at deploy', () => {
  test('is loaded once, only into an empty cache, for the champion variant, by our InvokeAtDeploy handler', () => {
    const { stack, loader } = loaderStack();
    const ml = { endpoint: { variants: artistRecommender.abVariants } } as unknown as MlStack;
    loadBootstrapCache(stack, { ml, loader, profile: PROFILES.sandbox });
    const template = Template.fromStack(stack);
    const [load] = Object.values(template.findResources('Custom::InvokeAtDeploy'));
    const payload = JSON.stringify(load.Properties.Payload);
    expect(payload).toMatch(/\\"onlyIfEmpty\\":true/);
    expect(payload).toMatch(/\\"variant\\":\\"champion\\"/);
    expect(payload).toMatch(/\\"popularityMember\\":\\"popularity.json\\"/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Invokes a function once at deploy and fails the deployment when it fails',
    });
    template.resourceCountIs('Custom::AWS', 0);
    // The pinned log groups of the pipeline stack keep their logical IDs.
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup'))).toEqual(
      expect.arrayContaining(['InvokeAtDeployHandlerLogs0F4D25D9', 'InvokeAtDeployProviderLogs7D0F3DCA']),
    );
  });
});

describe('the bootstrap model', () => {
  let server: ChildProcess | undefined;
  afterAll(() => server?.kill());

  test('is a popularity model with the real inference code, the same archive on every synth', () => {
    const files = bootstrapModelFiles(artistRecommender.model.inferenceCode);
    expect(Object.keys(files).sort()).toEqual(['code/inference.py', 'code/requirements.txt', 'config.json']);
    expect(JSON.parse(fs.readFileSync(files['config.json'], 'utf8'))).toMatchObject({
      kind: 'popularity',
      popularity: BOOTSTRAP_POPULARITY,
    });
    const hash = () =>
      new BootstrapModel(new Stack(), 'B', { files: artistRecommender.model.bootstrapModel() });
    expect(hash().bundle.asset.assetHash).toBe(hash().bundle.asset.assetHash);
  });

  test('serves the popularity list through /invocations, k and exclusions respected', async () => {
    const model = new BootstrapModel(new Stack(), 'B', { files: artistRecommender.model.bootstrapModel() });
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-model-'));
    tar.x({ file: model.bundle.localPath, cwd: modelDir, sync: true });
    server = spawn(
      path.join(ROOT, 'sagemaker', 'bin', 'py'),
      ['-m', 'artist_recommender.local_server', '--model-dir', modelDir, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const first = await new Promise<string>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('the local server did not start in 45 s')), 45_000);
      readline.createInterface({ input: server!.stdout! }).once('line', (line) => {
        clearTimeout(deadline);
        resolve(line);
      });
      server!.once('exit', (code) => reject(new Error(`local server exited with ${code}`)));
    });
    const base = first.split(' ').pop()!;
    const response = await fetch(`${base}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ user_id: 'anyone', k: 3, exclude: ['artist-0001'] }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      model_version: 'bootstrap',
      items: BOOTSTRAP_POPULARITY.slice(1, 4),
    });
  }, 60_000);
});
