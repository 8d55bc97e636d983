/**
 * The scoring function as it ships: the RealtimeScoring construct's environment is one the
 * handler's configuration reader accepts, and the handler bundled by esbuild (decorators and all)
 * loads and answers in a plain Node process.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildSync } from 'esbuild';
import { FEATURE_GROUP_KEYS, readScoringConfig } from '../../../../../lambda/ad-click/score/config';
import { RealtimeScoring } from '../../../../../lib/platform/constructs/serving/realtime-scoring';
import { SCORING_ENVIRONMENT, scoreEvent, scoreRequest } from '../../support/scoring-fixtures';
import { FeatureGroup } from '../../../../../lib/platform/constructs/data/feature-group';
import { ModelEndpoint } from '../../../../../lib/platform/constructs/ml/model-endpoint';

const ROOT = path.join(__dirname, '..', '..', '..', '..', '..');

test('the construct writes an environment the handler reads without a problem', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Serving', { env: { account: '123456789012', region: 'eu-west-1' } });
  const group = (name: string) => FeatureGroup.fromFeatureGroupName(stack, name);
  new RealtimeScoring(stack, 'Scoring', {
    handlerFolder: 'ad-click/score',
    endpoint: ModelEndpoint.fromEndpointAttributes(stack, 'Endpoint', {
      endpointName: 'ad-click-endpoint',
      variants: [
        { name: 'champion', weight: 0.9 },
        { name: 'challenger', weight: 0.1 },
      ],
    }),
    featureGroups: {
      [FEATURE_GROUP_KEYS.user]: group('users'),
      [FEATURE_GROUP_KEYS.segmentCtr]: group('segment-ctr'),
    },
    featureTimeoutMs: 30,
    modelTimeoutMs: 80,
    fallbackPrior: 0.03,
    timeout: Duration.seconds(2),
    metricsNamespace: 'AdClick',
  });
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  expect(readScoringConfig(fn.Properties.Environment.Variables)).toEqual({
    endpointName: 'ad-click-endpoint',
    variants: [
      { name: 'champion', weight: 0.9 },
      { name: 'challenger', weight: 0.1 },
    ],
    userFeatureGroup: 'users',
    segmentCtrFeatureGroup: 'segment-ctr',
    featureTimeoutMs: 30,
    modelTimeoutMs: 80,
    globalPriorCtr: 0.03,
  });
});

test('the handler reader names every missing or malformed variable at once', () => {
  const problems = (env: NodeJS.ProcessEnv) => {
    try {
      readScoringConfig(env);
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };
  const malformed = problems({
    ...SCORING_ENVIRONMENT,
    MODEL_TIMEOUT_MS: '0',
    FALLBACK_PRIOR: '2',
    AB_VARIANTS: '[{"name":"a_b","weight":1}]',
    FEATURE_GROUP_USER: '',
  });
  for (const name of ['MODEL_TIMEOUT_MS', 'FALLBACK_PRIOR', 'AB_VARIANTS', 'FEATURE_GROUP_USER']) {
    expect(malformed).toContain(name);
  }
  const missing = problems({});
  for (const name of [
    'MODEL_ENDPOINT_NAME',
    'AB_VARIANTS',
    'FEATURE_GROUP_USER',
    'FEATURE_GROUP_SEGMENT_CTR',
    'FEATURE_TIMEOUT_MS',
    'MODEL_TIMEOUT_MS',
    'FALLBACK_PRIOR',
  ]) {
    expect(missing).toContain(name);
  }
});

test('the bundled handler loads in Node and answers a bad request without calling AWS', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'score-bundle-'));
  try {
    const outfile = path.join(dir, 'index.js');
    // BundledFunction's esbuild settings, for the Node running the tests.
    buildSync({
      entryPoints: [path.join(ROOT, 'lambda', 'ad-click', 'score', 'handler.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: `node${process.versions.node.split('.')[0]}`,
      external: [],
      outfile,
      logLevel: 'silent',
      tsconfig: path.join(ROOT, 'tsconfig.json'),
    });
    const event = scoreEvent({ ...scoreRequest(1), extra: 1 });
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(outfile)}).handler(${JSON.stringify(event)}, { awsRequestId: 'r', functionName: 'f' })` +
          '.then((r) => process.stderr.write("RESULT " + JSON.stringify(r)))',
      ],
      {
        // The bundle's @aws-sdk/* imports resolve from the repository, as they do from the runtime.
        env: {
          ...process.env,
          ...SCORING_ENVIRONMENT,
          NODE_PATH: path.join(ROOT, 'node_modules'),
          AWS_REGION: 'eu-west-1',
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    const line = run.stderr.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line).toBeDefined();
    const result = JSON.parse(line!.slice('RESULT '.length));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'BadRequest', field: 'extra' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
