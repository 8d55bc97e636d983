import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentCtr, UserFeatures } from '../../../../lib/designs/ad-click/contracts/online-features';
import { describeFailure } from '../../../../scripts/support/cli';
import { Progress } from '../../../../scripts/support/progress';
import {
  parseSeedArgs,
  seedSandbox,
  toFeatureValues,
  UsageError,
  type SeedIo,
} from '../../../../scripts/ad-click/seed-sandbox';
import { SEGMENT_CTR_FEATURE_GROUP } from '../../../../lib/designs/ad-click/contracts/online-features';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';

const cfnMock = apiCheckedMockClient(CloudFormationClient);
const s3Mock = apiCheckedMockClient(S3Client);
const fsMock = apiCheckedMockClient(SageMakerFeatureStoreRuntimeClient);
const sfnMock = apiCheckedMockClient(SFNClient);
const clients = {
  cfn: new CloudFormationClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
  featureStore: new SageMakerFeatureStoreRuntimeClient({ region: 'us-east-1' }),
  sfn: new SFNClient({ region: 'us-east-1' }),
};
const DATA_OUTPUTS = [
  { OutputKey: 'ArtifactsBucketName', OutputValue: 'artefacts' },
  { OutputKey: 'UserFeaturesGroupName', OutputValue: 'users-fg' },
  { OutputKey: 'SegmentCtrGroupName', OutputValue: 'segments-fg' },
];
const PIPELINE_OUTPUTS = [
  { OutputKey: 'StateMachineArn', OutputValue: 'arn:aws:states:us-east-1:1:stateMachine:t' },
];
const HEADER =
  'label,user_id,age_group,country,device,ad_id,advertiser_id,ad_category,placement,hour_of_day,day_of_week';
// u1 three times, u2 once; feed#travel 3 impressions with 1 click, sidebar#finance 1 without.
const TRAIN = [
  HEADER,
  '1,u000001,25-34,US,mobile,ad00001,adv001,travel,feed,9,mon',
  '0,u000001,25-34,US,desktop,ad00002,adv001,travel,feed,10,tue',
  '0,u000002,18-24,DE,mobile,ad00003,adv002,finance,sidebar,11,wed',
  '0,u000001,25-34,US,tablet,ad00001,adv001,travel,feed,12,thu',
].join('\n');
const VALIDATION = [HEADER, '1,u000003,65+,FR,mobile,ad00004,adv003,auto,search,8,sun'].join('\n');
const NOW = new Date('2026-03-01T12:34:56.789Z');
let dir: string;

function fixture(train = TRAIN): string {
  const out = mkdtempSync(join(dir, 'data-'));
  for (const [split, body] of [
    ['train', train],
    ['validation', VALIDATION],
  ]) {
    mkdirSync(join(out, split));
    writeFileSync(join(out, split, 'data.csv'), `${body}\n`);
  }
  return out;
}

function stacks(outputs: Record<string, { OutputKey: string; OutputValue: string }[]>): void {
  cfnMock.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    const found = outputs[input.StackName];
    if (!found) throw new Error(`Stack with id ${input.StackName} does not exist`);
    return {
      Stacks: [
        { StackName: input.StackName, StackStatus: 'CREATE_COMPLETE', CreationTime: NOW, Outputs: found },
      ],
    };
  });
}

function io(): SeedIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (l) => lines.push(l), progress: new Progress({ quiet: true }), now: () => NOW };
}

/** The records sent to a group, as objects of feature name to value. */
function sent(group: string): Record<string, string>[] {
  return fsMock
    .commandCalls(PutRecordCommand)
    .map((c) => c.args[0].input)
    .filter((input) => input.FeatureGroupName === group)
    .map((input) => Object.fromEntries((input.Record ?? []).map((f) => [f.FeatureName, f.ValueAsString])));
}

beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'ad-click-seed-test-'))));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const mock of [cfnMock, s3Mock, fsMock, sfnMock]) mock.restore();
});
beforeEach(() => {
  for (const mock of [cfnMock, s3Mock, fsMock, sfnMock]) mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  fsMock.on(PutRecordCommand).resolves({});
});

describe('ad-click seed-sandbox', () => {
  it('uploads both channels and writes one contract-shaped record per user and per segment', async () => {
    stacks({ 'AdClick-sandbox-data': DATA_OUTPUTS });
    const from = fixture();
    const out = io();
    const report = await seedSandbox(parseSeedArgs(['--from', from]), clients, out);

    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => [p.Bucket, p.Key, p.ContentLength])).toEqual([
      ['artefacts', 'training/current/train/data.csv', readFileSync(join(from, 'train/data.csv')).length],
      [
        'artefacts',
        'training/current/validation/data.csv',
        readFileSync(join(from, 'validation/data.csv')).length,
      ],
    ]);
    // The bucket's default encryption applies: no per-object setting.
    expect(puts.every((p) => p.ServerSideEncryption === undefined && p.SSEKMSKeyId === undefined)).toBe(true);

    const eventTime = '2026-03-01T12:34:56Z';
    const users = sent('users-fg');
    expect(users).toEqual([
      { user_id: 'u000001', age_group: '25-34', country: 'US', event_time: eventTime },
      { user_id: 'u000002', age_group: '18-24', country: 'DE', event_time: eventTime },
    ]);
    for (const u of users) expect(UserFeatures.parse(u)).toEqual(u);

    // global rate 1/4; feed#travel (1 + 100 * 0.25) / (3 + 100), sidebar#finance (0 + 25) / (1 + 100).
    const segments = sent('segments-fg');
    expect(segments).toHaveLength(2);
    const byId = Object.fromEntries(segments.map((s) => [s.segment_id, s]));
    expect(Number(byId['feed#travel'].ctr)).toBeCloseTo(26 / 103, 12);
    expect(byId['feed#travel'].impressions).toBe('3');
    expect(Number(byId['sidebar#finance'].ctr)).toBeCloseTo(25 / 101, 12);
    expect(byId['sidebar#finance']).toMatchObject({ impressions: '1', event_time: eventTime });
    for (const s of segments) {
      expect(Object.keys(s)).toEqual(Object.keys(SegmentCtr.shape));
      SegmentCtr.parse({ ...s, ctr: Number(s.ctr), impressions: Number(s.impressions) });
    }
    // The validation row's user and segment are not features.
    expect(report).toMatchObject({ users: 2, segments: 2, globalCtr: 0.25 });
    expect(sfnMock.calls()).toHaveLength(0);
    expect(out.lines.at(-1)).toBe('to train on it: npm run train -- --design ad-click --profile sandbox');
  });

  it('starts the training state machine with --start-training', async () => {
    stacks({ 'AdClick-sandbox-data': DATA_OUTPUTS, 'AdClick-sandbox-pipeline': PIPELINE_OUTPUTS });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'exec-1', startDate: NOW });
    const report = await seedSandbox(parseSeedArgs(['--from', fixture(), '--start-training']), clients, io());
    expect(sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: PIPELINE_OUTPUTS[0].OutputValue },
    ]);
    expect(report.executionArn).toBe('exec-1');
  });

  it('names a missing stack output, sends nothing, and exits 1', async () => {
    stacks({ 'AdClick-sandbox-data': DATA_OUTPUTS.filter((o) => o.OutputKey !== 'SegmentCtrGroupName') });
    const failure = await seedSandbox(parseSeedArgs(['--from', fixture()]), clients, io()).catch((e) => e);
    expect((failure as Error).message).toBe(
      'missing stack output(s) SegmentCtrGroupName in AdClick-sandbox-data; outputs found: ' +
        'ArtifactsBucketName, UserFeaturesGroupName. Redeploy the stack with these outputs.',
    );
    expect(describeFailure('ad-click:seed-sandbox', failure).code).toBe(1);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(fsMock.calls()).toHaveLength(0);
  });

  it('writes nothing when a record breaks its contract', async () => {
    stacks({ 'AdClick-sandbox-data': DATA_OUTPUTS });
    const bad = TRAIN.replace('0,u000002,18-24,DE', '0,u 2,18-24,DE');
    await expect(seedSandbox(parseSeedArgs(['--from', fixture(bad)]), clients, io())).rejects.toThrow(
      /user_id "u 2" breaks its contract: user_id: /,
    );
    expect(s3Mock.calls()).toHaveLength(0);
    expect(fsMock.calls()).toHaveLength(0);
  });

  it('refuses bad usage with exit 2, naming each flag', () => {
    const usage = (argv: string[]) => {
      try {
        parseSeedArgs(argv);
      } catch (error) {
        return { error: error as Error, code: describeFailure('x', error).code };
      }
      throw new Error('parsed');
    };
    expect(parseSeedArgs([])).toMatchObject({
      profile: 'sandbox',
      rows: 200_000,
      seed: 1,
      startTraining: false,
      quiet: false,
    });
    const bad = usage(['--rows', '5', '--profile', 'dev', '--from', join(dir, 'none')]);
    expect(bad.code).toBe(2);
    expect(bad.error).toBeInstanceOf(UsageError);
    expect(bad.error.message).toMatch(/--profile must be one of sandbox, production, got "dev"/);
    expect(bad.error.message).toMatch(/--rows must be an integer in \[10, 50000000\], got "5"/);
    expect(bad.error.message).toMatch(/--from .*none has no train\/data.csv nor validation\/data.csv/);
    expect(usage(['--seeds', '2']).error.message).toMatch(/unknown option '--seeds'/);
  });

  it('sends every value as a string in the contract field order', () => {
    expect(
      toFeatureValues(SEGMENT_CTR_FEATURE_GROUP, {
        segment_id: 'feed#travel',
        ctr: 0.5,
        impressions: 2,
        event_time: '2026-03-01T00:00:00Z',
      }),
    ).toEqual([
      { FeatureName: 'segment_id', ValueAsString: 'feed#travel' },
      { FeatureName: 'ctr', ValueAsString: '0.5' },
      { FeatureName: 'impressions', ValueAsString: '2' },
      { FeatureName: 'event_time', ValueAsString: '2026-03-01T00:00:00Z' },
    ]);
  });
});
