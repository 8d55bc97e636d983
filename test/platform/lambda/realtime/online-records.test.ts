import {
  BatchGetRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { z } from 'zod';
import { OnlineRecordReader } from '../../../../lambda/platform/realtime/online-records';
import { DeadlineExceededError } from '../../../../lambda/platform/shared/deadline';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';

const store = apiCheckedMockClient(SageMakerFeatureStoreRuntimeClient);
const client = new SageMakerFeatureStoreRuntimeClient({ region: 'eu-west-1' });
const Profile = z.object({ tier: z.string().max(8), visits: z.int().min(0) });
const Prior = z.object({ rate: z.number().min(0).max(1) });
const ARN_PREFIX = 'arn:aws:sagemaker:eu-west-1:123456789012:feature-group/';

beforeEach(() => store.reset());
afterAll(() => store.restore());

const record = (group: string, id: string, values: Record<string, string>) => ({
  FeatureGroupName: group,
  RecordIdentifierValueAsString: id,
  Record: Object.entries(values).map(([FeatureName, ValueAsString]) => ({ FeatureName, ValueAsString })),
});

test('reads several groups in one call, typed by their schemas, matching groups echoed by ARN', async () => {
  store.on(BatchGetRecordCommand).resolves({
    Records: [
      record('Profiles', 'r1', { tier: 'gold', visits: '12' }),
      record(`${ARN_PREFIX}priors`, 'x#y', { rate: '0.25' }),
    ],
    Errors: [],
    UnprocessedIdentifiers: [],
  });
  const reader = new OnlineRecordReader(client, 100);
  const read = await reader.read({
    profile: { featureGroupName: 'Profiles', recordIds: ['r1', 'r1'], schema: Profile },
    prior: { featureGroupName: 'priors', recordIds: ['x#y', 'x#z', 'x#y'], schema: Prior },
  });
  expect(read.records.profile.get('r1')).toEqual({ tier: 'gold', visits: 12 });
  expect(read.records.prior.get('x#y')).toEqual({ rate: 0.25 });
  expect(read.records.prior.has('x#z')).toBe(false);
  expect(read.unusable).toBe(0);
  const calls = store.commandCalls(BatchGetRecordCommand);
  expect(calls).toHaveLength(1);
  // Each identifier once, and only the schema's features.
  expect(calls[0].args[0].input.Identifiers).toEqual([
    {
      FeatureGroupName: 'Profiles',
      RecordIdentifiersValueAsString: ['r1'],
      FeatureNames: ['tier', 'visits'],
    },
    { FeatureGroupName: 'priors', RecordIdentifiersValueAsString: ['x#y', 'x#z'], FeatureNames: ['rate'] },
  ]);
});

test('counts records it cannot use: errors, unprocessed ids, broken values, unknown groups', async () => {
  store.on(BatchGetRecordCommand).resolves({
    Records: [
      record('profiles', 'r1', { tier: 'gold', visits: '1.5' }),
      record('profiles', 'r2', { tier: 'gold' }),
      record('priors', 'p1', { rate: 'NaN' }),
      record('priors', 'p2', { rate: '' }),
      record('elsewhere', 'e1', { rate: '0.1' }),
      record('priors', 'p3', { rate: '0.5', ignored: 'x' }),
    ],
    Errors: [
      { FeatureGroupName: 'priors', RecordIdentifierValueAsString: 'p4', ErrorCode: 'E', ErrorMessage: 'm' },
    ],
    UnprocessedIdentifiers: [{ FeatureGroupName: 'priors', RecordIdentifiersValueAsString: ['p5', 'p6'] }],
  });
  const read = await new OnlineRecordReader(client, 100).read({
    profile: { featureGroupName: 'profiles', recordIds: ['r1', 'r2'], schema: Profile },
    prior: { featureGroupName: 'priors', recordIds: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'], schema: Prior },
  });
  expect(read.records.profile.size).toBe(0);
  expect([...read.records.prior.entries()]).toEqual([['p3', { rate: 0.5 }]]);
  expect(read.unusable).toBe(8);
});

test('makes no call when there is nothing to read', async () => {
  const read = await new OnlineRecordReader(client, 100).read({
    prior: { featureGroupName: 'priors', recordIds: [], schema: Prior },
  });
  expect(read.records.prior.size).toBe(0);
  expect(store.calls()).toHaveLength(0);
});

test('refuses more identifiers than one call takes, and one group under two keys', async () => {
  const reader = new OnlineRecordReader(client, 100);
  const ids = Array.from({ length: 101 }, (_, i) => `id${i}`);
  await expect(
    reader.read({ prior: { featureGroupName: 'priors', recordIds: ids, schema: Prior } }),
  ).rejects.toThrow(RangeError);
  await expect(
    reader.read({
      a: { featureGroupName: 'priors', recordIds: ['x'], schema: Prior },
      b: { featureGroupName: `${ARN_PREFIX}priors`, recordIds: ['y'], schema: Prior },
    }),
  ).rejects.toThrow(/queried twice/);
  expect(store.calls()).toHaveLength(0);
});

test('gives up at the deadline, and aborts the call', async () => {
  let aborted = false;
  store.send.callsFake(
    (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
      new Promise((_, reject) =>
        options?.abortSignal?.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('aborted'));
        }),
      ),
  );
  const started = performance.now();
  await expect(
    new OnlineRecordReader(client, 40).read({
      prior: { featureGroupName: 'priors', recordIds: ['x'], schema: Prior },
    }),
  ).rejects.toThrow(DeadlineExceededError);
  // The call never settles on its own: rejecting at all is the deadline at work. The bound only
  // says it came near the 40 ms, with room for a busy machine's timer lag.
  expect(performance.now() - started).toBeLessThan(1_000);
  expect(aborted).toBe(true);
});
