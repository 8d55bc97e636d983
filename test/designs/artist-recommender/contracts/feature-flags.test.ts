import {
  captureOutput,
  lambdaContext,
  type StdoutCapture,
} from '../../../platform/lambda/support/invocation';
import {
  recommenderFlagSchema,
  recommenderFlags,
  recommenderServing,
  type RecommenderFlagValues,
} from '../../../../lib/designs/artist-recommender/contracts/feature-flags';
import { artistRecommender } from '../../../../lib/designs/artist-recommender/design';
import { flagDocument } from '../../../../lambda/platform/feature-flags/flag-document';
import { FLAG_ENV } from '../../../../lambda/platform/feature-flags/function-contract';

const DEPLOYED = {
  variants: artistRecommender.abVariants,
  scoreThreshold: artistRecommender.ranking.scoreThreshold,
};
const flags = recommenderFlags(DEPLOYED);
const GOOD = flagDocument(flags);

/** The event AppConfig invokes the validator with. */
function validatorEvent(document: unknown) {
  const text = typeof document === 'string' ? document : JSON.stringify(document);
  return {
    applicationId: 'abc1234',
    configurationProfileId: 'prof901',
    configurationVersion: '2',
    content: Buffer.from(text).toString('base64'),
    uri: 'hosted',
  };
}

function withValues(values: Partial<Record<keyof RecommenderFlagValues, unknown>>) {
  return { ...GOOD, values: { ...GOOD.values, ...values } };
}

let output: StdoutCapture;
let handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<void>;
beforeAll(async () => {
  process.env[FLAG_ENV.variantNames] = JSON.stringify(DEPLOYED.variants.map((v) => v.name));
  output = captureOutput();
  ({ handler } = await import('../../../../lambda/artist-recommender/flags-validator/handler'));
});
afterAll(() => {
  output.restore();
  delete process.env[FLAG_ENV.variantNames];
});

describe('recommender flag validator (AppConfig Lambda validator)', () => {
  test('accepts the deployed default document', async () => {
    await expect(handler(validatorEvent(GOOD), lambdaContext('v-1'))).resolves.toBeUndefined();
  });

  test('accepts a threshold flag switched off without its value, and the kill switch off', async () => {
    const document = withValues({
      scoreThreshold: { enabled: false },
      challengerTraffic: { enabled: false },
    });
    await expect(handler(validatorEvent(document), lambdaContext('v-2'))).resolves.toBeUndefined();
  });

  test.each([
    [
      'a threshold above 1',
      { scoreThreshold: { enabled: true, value: 1.5 } },
      /values\.scoreThreshold\.value must be at most 1/,
    ],
    [
      'a threshold below -1',
      { scoreThreshold: { enabled: true, value: -2 } },
      /values\.scoreThreshold\.value must be at least -1/,
    ],
    [
      'a threshold flag on without a value',
      { scoreThreshold: { enabled: true } },
      /values\.scoreThreshold\.value is missing/,
    ],
    [
      'a negative weight',
      { abWeights: { enabled: true, champion: -1, challenger: 1 } },
      /values\.abWeights\.champion must be at least 0/,
    ],
    [
      'weights summing to 0',
      { abWeights: { enabled: true, champion: 0, challenger: 0 } },
      /values\.abWeights must give at least one variant a weight above 0/,
    ],
    [
      'an unknown variant',
      { abWeights: { enabled: true, champion: 1, challenger: 1, shadow: 1 } },
      /values\.abWeights must not hold "shadow"/,
    ],
    [
      'a weight that is text',
      { abWeights: { enabled: true, champion: '1', challenger: 1 } },
      /values\.abWeights\.champion must be a number/,
    ],
    ['a missing flag', { modelOnMiss: undefined }, /values\.modelOnMiss is missing/],
    [
      'a switch that is not a boolean',
      { modelOnMiss: { enabled: 'no' } },
      /values\.modelOnMiss\.enabled must be a boolean/,
    ],
  ])('refuses %s, naming the field', async (_, values, message) => {
    const error = await handler(validatorEvent(withValues(values)), lambdaContext('v-3')).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
  });

  test('refuses a document that is not JSON, or of another version, or with a value of no defined flag', async () => {
    await expect(handler(validatorEvent('{"version": '), lambdaContext('v-4'))).rejects.toThrow(/not JSON/);
    await expect(handler(validatorEvent({ ...GOOD, version: '2' }), lambdaContext('v-5'))).rejects.toThrow(
      /version must be "1"/,
    );
    const definitions = Object.fromEntries(
      Object.entries(GOOD.flags).filter(([key]) => key !== 'modelOnMiss'),
    );
    await expect(
      handler(validatorEvent({ ...GOOD, flags: definitions }), lambdaContext('v-6')),
    ).rejects.toThrow(/values\.modelOnMiss has no definition in flags/);
  });

  test('refuses an event without content, naming the field', async () => {
    const event: Record<string, unknown> = validatorEvent(GOOD);
    delete event.content;
    await expect(handler(event, lambdaContext('v-7'))).rejects.toThrow(/content/);
  });
});

describe('recommender flags, applied to a request', () => {
  const schema = recommenderFlagSchema(DEPLOYED.variants.map((v) => v.name));
  const values = (overrides: Partial<RecommenderFlagValues>) =>
    schema.parse({ ...flags.defaults, ...overrides });

  test('the defaults serve the deployed threshold, split and model', () => {
    expect(recommenderServing(values({}), DEPLOYED)).toEqual({
      scoreThreshold: DEPLOYED.scoreThreshold,
      variants: DEPLOYED.variants,
      modelOnMiss: true,
    });
  });

  test('the kill switch sends every user to the champion, whatever the weights', () => {
    const served = recommenderServing(
      values({
        challengerTraffic: { enabled: false },
        abWeights: { enabled: true, champion: 0, challenger: 1 },
      }),
      DEPLOYED,
    );
    expect(served.variants).toEqual([{ name: 'champion', weight: 1 }]);
  });

  test('flags that are off fall back to the deployed threshold and weights', () => {
    const served = recommenderServing(
      values({ scoreThreshold: { enabled: false }, abWeights: { enabled: false } }),
      DEPLOYED,
    );
    expect(served).toMatchObject({ scoreThreshold: DEPLOYED.scoreThreshold, variants: DEPLOYED.variants });
  });

  test('flags that are on set the threshold, the weights, and model-on-miss', () => {
    const served = recommenderServing(
      values({
        scoreThreshold: { enabled: true, value: 0.4 },
        abWeights: { enabled: true, champion: 1, challenger: 3 },
        modelOnMiss: { enabled: false },
      }),
      DEPLOYED,
    );
    expect(served).toEqual({
      scoreThreshold: 0.4,
      variants: [
        { name: 'champion', weight: 1 },
        { name: 'challenger', weight: 3 },
      ],
      modelOnMiss: false,
    });
  });
});
