import {
  captureOutput,
  lambdaContext,
  type StdoutCapture,
} from '../../../platform/lambda/support/invocation';
import {
  adClickFlagSchema,
  adClickFlags,
  adClickServing,
} from '../../../../lib/designs/ad-click/contracts/feature-flags';
import { adClick } from '../../../../lib/designs/ad-click/design';
import { flagDocument } from '../../../../lambda/platform/feature-flags/flag-document';
import { FLAG_ENV } from '../../../../lambda/platform/feature-flags/function-contract';

const VARIANTS = adClick.abVariants;
const flags = adClickFlags(VARIANTS);
const GOOD = flagDocument(flags);

function validatorEvent(document: unknown) {
  return {
    applicationId: 'abc1234',
    configurationProfileId: 'prof901',
    configurationVersion: '3',
    content: Buffer.from(JSON.stringify(document)).toString('base64'),
  };
}

let output: StdoutCapture;
let handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<void>;
beforeAll(async () => {
  process.env[FLAG_ENV.variantNames] = JSON.stringify(VARIANTS.map((v) => v.name));
  output = captureOutput();
  ({ handler } = await import('../../../../lambda/ad-click/flags-validator/handler'));
});
afterAll(() => {
  output.restore();
  delete process.env[FLAG_ENV.variantNames];
});

describe('ad click flag validator (AppConfig Lambda validator)', () => {
  test('accepts the deployed default document, and the fallback forced', async () => {
    await expect(handler(validatorEvent(GOOD), lambdaContext('v-1'))).resolves.toBeUndefined();
    const forced = { ...GOOD, values: { ...GOOD.values, forceSegmentCtrFallback: { enabled: true } } };
    await expect(handler(validatorEvent(forced), lambdaContext('v-2'))).resolves.toBeUndefined();
  });

  test.each([
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
      'a weight missing while on',
      { abWeights: { enabled: true, champion: 1 } },
      /values\.abWeights\.challenger is missing/,
    ],
    [
      'an attribute on a switch',
      { forceSegmentCtrFallback: { enabled: true, share: 0.5 } },
      /values\.forceSegmentCtrFallback must not hold "share"/,
    ],
    ['the kill switch missing', { challengerTraffic: undefined }, /values\.challengerTraffic is missing/],
  ])('refuses %s, naming the field', async (_, values, message) => {
    const document = { ...GOOD, values: { ...GOOD.values, ...values } };
    await expect(handler(validatorEvent(document), lambdaContext('v-3'))).rejects.toThrow(message);
  });
});

describe('ad click flags, applied to a request', () => {
  const schema = adClickFlagSchema(VARIANTS.map((v) => v.name));

  test('the defaults score on the model with the deployed split', () => {
    expect(adClickServing(schema.parse(flags.defaults), VARIANTS)).toEqual({
      variants: VARIANTS,
      forceFallback: false,
    });
  });

  test('the kill switch sends every user to the champion; the fallback can be forced', () => {
    const values = schema.parse({
      ...flags.defaults,
      challengerTraffic: { enabled: false },
      forceSegmentCtrFallback: { enabled: true },
    });
    expect(adClickServing(values, VARIANTS)).toEqual({
      variants: [{ name: 'champion', weight: 1 }],
      forceFallback: true,
    });
  });
});
