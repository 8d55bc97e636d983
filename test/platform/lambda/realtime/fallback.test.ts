import {
  ModelScoresError,
  scoreWithFallback,
  type Degradation,
} from '../../../../lambda/platform/realtime/fallback';
import { DeadlineExceededError } from '../../../../lambda/platform/shared/deadline';

type Records = ReadonlyMap<string, number>;
const PRIORS: Records = new Map([
  ['a', 0.2],
  ['b', 0.4],
  ['bad', 7],
]);

function scoring(overrides: {
  readRecords?: () => Promise<Records>;
  score?: (records: Records | undefined) => Promise<{ scores: number[]; modelVersion: string }>;
}) {
  const degradations: Degradation[] = [];
  const seen: (Records | undefined)[] = [];
  const input = {
    candidates: ['a', 'b', 'c', 'bad'],
    readRecords: overrides.readRecords ?? (async () => PRIORS),
    score: async (records: Records | undefined) => {
      seen.push(records);
      return (overrides.score ?? (async () => ({ scores: [0.1, 0.2, 0.3, 0.4], modelVersion: 'v1' })))(
        records,
      );
    },
    prior: (candidate: string, records: Records) => records.get(candidate),
    globalPrior: 0.05,
    onDegradation: (kind: Degradation) => degradations.push(kind),
  };
  return { input, degradations, seen };
}

test('the model answers when it can, with the records it was given', async () => {
  const { input, degradations, seen } = scoring({});
  await expect(scoreWithFallback(input)).resolves.toMatchObject({
    source: 'model',
    scores: [0.1, 0.2, 0.3, 0.4],
    modelVersion: 'v1',
  });
  expect(seen).toEqual([PRIORS]);
  expect(degradations).toEqual([]);
});

test.each<[string, () => Promise<never>, Degradation]>([
  ['fails', async () => Promise.reject(new Error('boom')), 'model-error'],
  ['times out', async () => Promise.reject(new DeadlineExceededError('model', 10)), 'model-timeout'],
])(
  'when the model %s, each candidate gets its prior, else the global one (out-of-range priors too)',
  async (_name, fail, kind) => {
    const { input, degradations } = scoring({ score: fail });
    await expect(scoreWithFallback(input)).resolves.toMatchObject({
      source: 'fallback',
      scores: [0.2, 0.4, 0.05, 0.05],
      globalPriorCount: 2,
    });
    expect(degradations).toEqual([kind]);
  },
);

test.each([
  ['too few scores', [0.1, 0.2, 0.3]],
  ['a score above 1', [0.1, 0.2, 0.3, 1.01]],
  ['a negative score', [0.1, -0.2, 0.3, 0.4]],
  ['a NaN', [0.1, NaN, 0.3, 0.4]],
])('an answer with %s is not trusted', async (_name, scores) => {
  const { input, degradations } = scoring({ score: async () => ({ scores, modelVersion: 'v1' }) });
  await expect(scoreWithFallback(input)).resolves.toMatchObject({ source: 'fallback' });
  expect(degradations).toEqual(['model-answer-invalid']);
});

test('records that cannot be read leave the model without them, and the fallback with the global prior', async () => {
  const { input, degradations, seen } = scoring({
    readRecords: async () => Promise.reject(new DeadlineExceededError('store', 10)),
    score: async () => Promise.reject(new Error('down')),
  });
  await expect(scoreWithFallback(input)).resolves.toEqual({
    source: 'fallback',
    scores: [0.05, 0.05, 0.05, 0.05],
    globalPriorCount: 4,
    records: undefined,
  });
  expect(seen).toEqual([undefined]);
  expect(degradations).toEqual(['records-timeout', 'model-error']);
});

test('a defect in the prior callback is not swallowed', async () => {
  const { input } = scoring({ score: async () => Promise.reject(new Error('down')) });
  await expect(
    scoreWithFallback({
      ...input,
      prior: () => {
        throw new TypeError('defect');
      },
    }),
  ).rejects.toThrow(TypeError);
  expect(new ModelScoresError('x').name).toBe('ModelScoresError');
});
