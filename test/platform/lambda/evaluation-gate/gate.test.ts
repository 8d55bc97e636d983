import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import * as tar from 'tar';
import { decide, type GatePolicy } from '../../../../lambda/platform/evaluation-gate/decide';
import { evaluate, policyFromEnvironment } from '../../../../lambda/platform/evaluation-gate/handler';
import { gateEnvironment } from '../../../../lambda/platform/evaluation-gate/policy';

const policy: GatePolicy = {
  metric: 'ndcg_at_10',
  direction: 'higher-is-better',
  range: [0, 1],
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

describe('decide, lower-is-better (log loss)', () => {
  const logLoss: GatePolicy = {
    metric: 'log_loss',
    direction: 'lower-is-better',
    range: [0, Math.LN2],
    baselineMetric: 'baseline_log_loss',
    minImprovementOverChampion: 0.0005,
    minImprovementOverBaseline: 0.002,
  };
  const run = (loss: unknown, baseline: unknown = 0.47) => ({ log_loss: loss, baseline_log_loss: baseline });

  test('GIVEN a lower loss than the champion and the baseline by the margins THEN it is promoted', () => {
    expect(decide(run(0.44), { log_loss: 0.45 }, logLoss)).toMatchObject({
      decision: 'promote',
      metric: 'log_loss',
      direction: 'lower-is-better',
      candidate: 0.44,
      champion: 0.45,
      reasons: ["log_loss 0.4400 beats the champion's 0.4500 and the baseline's 0.4700"],
    });
  });

  test('GIVEN a higher loss than the champion THEN it is rejected, though a higher-is-better gate would promote it', () => {
    const result = decide(run(0.46), { log_loss: 0.45 }, logLoss);
    expect(result.decision).toBe('reject');
    expect(result.reasons).toEqual(["log_loss 0.4600 does not beat the champion's 0.4500 by 0.0005"]);
    expect(
      decide(run(0.46, 0.3), { log_loss: 0.45 }, { ...logLoss, direction: 'higher-is-better' }).decision,
    ).toBe('promote');
  });

  test('an equal loss, or a decrease below the margin, is rejected', () => {
    expect(
      decide(run(0.45), { log_loss: 0.45 }, { ...logLoss, minImprovementOverChampion: 0 }).decision,
    ).toBe('reject');
    expect(decide(run(0.4497), { log_loss: 0.45 }, logLoss).decision).toBe('reject');
    expect(decide(run(0.4494), { log_loss: 0.45 }, logLoss).decision).toBe('promote');
  });

  test('the first candidate only has to beat the baseline, downwards', () => {
    expect(decide(run(0.46), undefined, logLoss).decision).toBe('promote');
    expect(decide(run(0.469), undefined, logLoss)).toMatchObject({
      decision: 'reject',
      reasons: ["log_loss 0.4690 does not beat the baseline's 0.4700 by 0.002"],
    });
    expect(decide(run(0.48), undefined, logLoss).decision).toBe('reject');
  });

  test.each([
    [
      'the candidate above the range',
      run(0.9),
      { log_loss: 0.45 },
      /candidate metrics have log_loss 0\.9, outside its range \[0, 0\.69/,
    ],
    [
      'the candidate below the range',
      run(-0.1),
      { log_loss: 0.45 },
      /candidate metrics have log_loss -0\.1, outside/,
    ],
    [
      'the baseline outside the range',
      run(0.4, 1.2),
      { log_loss: 0.45 },
      /candidate metrics have baseline_log_loss 1\.2/,
    ],
    [
      'the champion outside the range',
      run(0.4),
      { log_loss: 3 },
      /champion metrics have log_loss 3, outside/,
    ],
    ['a NaN candidate', run(Number.NaN), { log_loss: 0.45 }, /candidate metrics lack a valid log_loss/],
    [
      'an infinite candidate',
      run(Number.NEGATIVE_INFINITY),
      { log_loss: 0.45 },
      /candidate metrics lack a valid log_loss/,
    ],
    [
      'a missing candidate',
      { baseline_log_loss: 0.47 },
      { log_loss: 0.45 },
      /candidate metrics lack a valid log_loss/,
    ],
  ])('%s is invalid, however good it looks', (_case, candidate, champion, reason) => {
    const result = decide(candidate, champion, logLoss);
    expect(result.decision).toBe('invalid');
    expect(result.reasons.join('; ')).toMatch(reason);
  });

  test('the bounds of the range are valid values', () => {
    expect(decide(run(0), { log_loss: Math.LN2 }, logLoss).decision).toBe('promote');
  });

  test('without a range any finite value is judged, and NaN still fails closed', () => {
    const open: GatePolicy = { ...logLoss, range: undefined };
    expect(decide(run(1.5, 2), { log_loss: 1.6 }, open).decision).toBe('promote');
    expect(decide(run(Number.NaN), { log_loss: 1.6 }, open).decision).toBe('invalid');
  });
});

describe('the gate policy in the environment', () => {
  test('what the stack writes is what the handler reads, a half-open range included', () => {
    const logLoss: GatePolicy = {
      metric: 'log_loss',
      direction: 'lower-is-better',
      range: [0, Number.POSITIVE_INFINITY],
      baselineMetric: 'baseline_log_loss',
      minImprovementOverChampion: 0.0005,
      minImprovementOverBaseline: 0,
    };
    for (const written of [policy, logLoss]) {
      expect(policyFromEnvironment(gateEnvironment(written))).toEqual(written);
    }
    const open: GatePolicy = { ...logLoss, range: undefined };
    expect(gateEnvironment(open)).not.toHaveProperty('GATE_RANGE_MIN');
    expect(policyFromEnvironment(gateEnvironment(open))).toEqual(open);
  });

  test('every field is checked, and every problem named at once', () => {
    expect(
      policyFromEnvironment({
        GATE_METRIC: 'ndcg_at_10',
        GATE_DIRECTION: 'higher-is-better',
        GATE_BASELINE_METRIC: 'popularity_ndcg_at_10',
        GATE_MIN_IMPROVEMENT_OVER_CHAMPION: '0',
        GATE_MIN_IMPROVEMENT_OVER_BASELINE: '0.01',
        GATE_RANGE_MIN: '0',
        GATE_RANGE_MAX: '1',
      }),
    ).toEqual({ ...policy, minImprovementOverChampion: 0 });
    expect(() => policyFromEnvironment({ GATE_METRIC: 'x', GATE_BASELINE_METRIC: 'y' })).toThrow(
      /GATE_DIRECTION is required[\s\S]*GATE_MIN_IMPROVEMENT_OVER_CHAMPION[\s\S]*GATE_MIN_IMPROVEMENT_OVER_BASELINE/,
    );
    const env = gateEnvironment(policy);
    expect(() => policyFromEnvironment({ ...env, GATE_DIRECTION: 'up' })).toThrow(/direction: one of/);
    expect(() => policyFromEnvironment({ ...env, GATE_RANGE_MAX: undefined })).toThrow(
      /GATE_RANGE_MIN and GATE_RANGE_MAX are set together/,
    );
    expect(() => policyFromEnvironment({ ...env, GATE_RANGE_MIN: '2' })).toThrow(
      /range: \[min, max\] with min < max/,
    );
    expect(() => policyFromEnvironment({ ...env, GATE_MIN_IMPROVEMENT_OVER_BASELINE: 'NaN' })).toThrow(
      /GATE_MIN_IMPROVEMENT_OVER_BASELINE must be a number/,
    );
  });

  test('a bad policy fails the synth, naming each bad field', () => {
    expect(() =>
      gateEnvironment({
        ...policy,
        direction: 'sideways' as GatePolicy['direction'],
        range: [1, 0],
        baselineMetric: policy.metric,
        minImprovementOverChampion: -1,
      }),
    ).toThrow(
      /baselineMetric: must differ[\s\S]*direction: one of[\s\S]*minImprovementOverChampion[\s\S]*range:/,
    );
  });
});
