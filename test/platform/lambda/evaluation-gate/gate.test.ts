import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import * as tar from 'tar';
import { decide, type GatePolicy } from '../../../../lambda/platform/evaluation-gate/decide';
import { evaluate, policyFromEnvironment } from '../../../../lambda/platform/evaluation-gate/handler';

const policy: GatePolicy = {
  metric: 'ndcg_at_10',
  baselineMetric: 'popularity_ndcg_at_10',
  minImprovementOverChampion: 0.005,
  minImprovementOverBaseline: 0.01,
};

const candidate = (ndcg: unknown, popularity: unknown = 0.08) => ({
  ndcg_at_10: ndcg,
  popularity_ndcg_at_10: popularity,
});

describe('decide', () => {
  test('a better candidate is promoted', () => {
    expect(decide(candidate(0.26), { ndcg_at_10: 0.24 }, policy)).toMatchObject({
      decision: 'promote',
      champion: 0.24,
    });
  });

  test('the first candidate only has to beat popularity', () => {
    expect(decide(candidate(0.2), undefined, policy).decision).toBe('promote');
    expect(decide(candidate(0.085), undefined, policy).decision).toBe('reject');
  });

  test('a worse candidate is rejected with the reason', () => {
    const result = decide(candidate(0.2), { ndcg_at_10: 0.24 }, policy);
    expect(result.decision).toBe('reject');
    expect(result.reasons.join()).toMatch(/does not beat the champion's 0\.2400/);
  });

  test('an equal candidate is rejected, even with a zero margin', () => {
    expect(decide(candidate(0.24), { ndcg_at_10: 0.24 }, policy).decision).toBe('reject');
    expect(
      decide(candidate(0.24), { ndcg_at_10: 0.24 }, { ...policy, minImprovementOverChampion: 0 }).decision,
    ).toBe('reject');
  });

  test('a gain below the margin is rejected', () => {
    expect(decide(candidate(0.243), { ndcg_at_10: 0.24 }, policy).decision).toBe('reject');
  });

  test.each([
    ['missing metric', { popularity_ndcg_at_10: 0.08 }],
    ['a string', candidate('0.3')],
    ['NaN', candidate(Number.NaN)],
    ['out of range', candidate(1.5)],
    ['missing baseline', { ndcg_at_10: 0.3 }],
    ['not an object', [0.3]],
    ['null', null],
  ])('malformed candidate metrics (%s) fail closed', (_name, metrics) => {
    expect(decide(metrics, { ndcg_at_10: 0.1 }, policy).decision).toBe('invalid');
  });

  test('malformed champion metrics fail closed', () => {
    expect(decide(candidate(0.3), { ndcg: 0.1 }, policy).decision).toBe('invalid');
  });
});

describe('evaluate against S3 objects', () => {
  const s3 = apiCheckedMockClient(S3Client);
  const client = new S3Client({});
  afterEach(() => s3.reset());

  // The handler reads Body as a Node stream, which is what the SDK returns in Lambda.
  function body(data: Buffer) {
    return Readable.from([data]) as never;
  }

  function outputArchive(files: Record<string, string>): Buffer {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-'));
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    const file = path.join(dir, 'output.tar.gz');
    tar.c({ file, cwd: dir, gzip: true, sync: true }, Object.keys(files));
    return fs.readFileSync(file);
  }

  const event = {
    bucket: 'artifacts',
    candidateOutputKey: 'models/job/output/output.tar.gz',
    championMetricsKey: 'champion/metrics.json',
  };

  test('reads metrics.json out of output.tar.gz next to large batch outputs, and the champion', async () => {
    const archive = outputArchive({
      'recommendations.jsonl': '{"user_id":"u"}\n'.repeat(50_000),
      'metrics.json': JSON.stringify(candidate(0.27)),
    });
    s3.on(GetObjectCommand, { Key: event.candidateOutputKey }).resolves({ Body: body(archive) });
    s3.on(GetObjectCommand, { Key: event.championMetricsKey }).resolves({
      Body: body(Buffer.from('{"ndcg_at_10":0.25}')),
    });
    const result = await evaluate(event, policy, client);
    expect(result).toMatchObject({ decision: 'promote', candidate: 0.27, champion: 0.25 });
    expect(result.candidateMetrics).toEqual(candidate(0.27));
  });

  test('no champion yet: the baseline decides', async () => {
    s3.on(GetObjectCommand, { Key: event.candidateOutputKey }).resolves({
      Body: body(outputArchive({ 'metrics.json': JSON.stringify(candidate(0.2)) })),
    });
    s3.on(GetObjectCommand, { Key: event.championMetricsKey }).rejects(
      new NoSuchKey({ message: 'no', $metadata: {} }),
    );
    expect((await evaluate(event, policy, client)).decision).toBe('promote');
  });

  test.each([
    [
      'an archive without metrics.json',
      () => body(outputArchive({ 'popularity.json': '{}' })),
      /has no metrics\.json/,
    ],
    ['metrics that are not JSON', () => body(outputArchive({ 'metrics.json': '{oops' })), /is not JSON/],
    [
      'an object that is not a gzipped tar',
      () => body(Buffer.from('plain text')),
      /not a gzipped tar archive/,
    ],
  ])('%s is invalid', async (_name, makeBody, reason) => {
    s3.on(GetObjectCommand, { Key: event.candidateOutputKey }).resolves({ Body: makeBody() });
    const result = await evaluate(event, policy, client);
    expect(result.decision).toBe('invalid');
    expect(result.reasons.join()).toMatch(reason);
  });

  test('a missing training output is invalid', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));
    expect((await evaluate(event, policy, client)).decision).toBe('invalid');
  });

  test('S3 failing for other reasons fails the task, so Step Functions retries it', async () => {
    s3.on(GetObjectCommand).rejects(new Error('SlowDown'));
    await expect(evaluate(event, policy, client)).rejects.toThrow('SlowDown');
  });
});

test('the policy comes from the environment, every field checked', () => {
  expect(
    policyFromEnvironment({
      GATE_METRIC: 'ndcg_at_10',
      GATE_BASELINE_METRIC: 'popularity_ndcg_at_10',
      GATE_MIN_IMPROVEMENT_OVER_CHAMPION: '0',
      GATE_MIN_IMPROVEMENT_OVER_BASELINE: '0.01',
    }),
  ).toEqual({ ...policy, minImprovementOverChampion: 0 });
  expect(() => policyFromEnvironment({ GATE_METRIC: 'x', GATE_BASELINE_METRIC: 'y' })).toThrow(
    /GATE_MIN_IMPROVEMENT_OVER_CHAMPION/,
  );
});
