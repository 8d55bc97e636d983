/**
 * The scoring handler with feature flags from AppConfig, every AWS client mocked at its boundary:
 * the flags steer the A/B split, the kill switch and a forced segment-CTR fallback, and an
 * AppConfig outage never answers anything but 200.
 */
import { captureStdout, type StdoutCapture } from '../../support/powertools-env';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createHandler } from '../../../../../lambda/ad-click/score/handler';
import { assignVariant } from '../../../../../lambda/platform/realtime/variant';
import {
  adClickDefaults,
  type AdClickFlagValues,
} from '../../../../../lib/designs/ad-click/contracts/feature-flags';
import { flagEnvironment, mockAppConfig } from '../../../../support/appconfig-flags';
import {
  SCORING_ENVIRONMENT,
  lambdaContext,
  mockScoringClients,
  scoreEvent,
  scoreRequest,
  scoringConfig,
} from '../../support/scoring-fixtures';

const { featureStore, runtime, healthy } = mockScoringClients();
const appConfig = mockAppConfig();
const DEPLOYED = JSON.parse(SCORING_ENVIRONMENT.AB_VARIANTS) as { name: string; weight: number }[];
const DEFAULTS = adClickDefaults(DEPLOYED);
const TIMEOUT_MS = 40;
let stdout: StdoutCapture;

function handlerWithFlags() {
  return createHandler(
    scoringConfig(flagEnvironment(DEFAULTS, { maxAgeSeconds: 15, timeoutMs: TIMEOUT_MS })),
  );
}

function flags(overrides: Partial<AdClickFlagValues>): AdClickFlagValues {
  return { ...DEFAULTS, ...overrides };
}

function body(result: APIGatewayProxyResult) {
  return JSON.parse(result.body) as { source: string; variant: string; scores: { probability: number }[] };
}

beforeEach(() => {
  featureStore.reset();
  runtime.reset();
  appConfig.reset();
  healthy();
  stdout = captureStdout();
});
afterEach(() => stdout.restore());
afterAll(() => {
  featureStore.restore();
  runtime.restore();
  appConfig.client.restore();
});

describe('scoring under an AppConfig outage', () => {
  test.each([
    ['fails', () => appConfig.fails(), 'FlagsUnavailable'],
    ['hangs past the deadline', () => appConfig.hangs(), 'FlagsUnavailable'],
    [
      'returns a document naming an unknown variant',
      () => appConfig.serves(flags({ abWeights: { enabled: true, champion: 1, challenger: 1, shadow: 1 } })),
      'FlagsInvalid',
    ],
  ])('AppConfig %s: 200 from the model on the deployed split, counted', async (_, outage, metric) => {
    outage();
    const handler = handlerWithFlags();
    const started = performance.now();
    const result = await handler(scoreEvent(scoreRequest(3, 'u000042')), lambdaContext);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 1000);
    expect(result.statusCode).toBe(200);
    expect(body(result)).toMatchObject({ source: 'model', variant: assignVariant('u000042', DEPLOYED) });
    expect(stdout.metricNames()).toEqual([metric]);
  });
});

describe('scoring steered by flags', () => {
  test('the kill switch sends every user to the champion, whatever the weights', async () => {
    appConfig.serves(
      flags({
        challengerTraffic: { enabled: false },
        abWeights: { enabled: true, champion: 0, challenger: 1 },
      }),
    );
    const handler = handlerWithFlags();
    const variants = new Set<string>();
    for (let i = 0; i < 40; i++) {
      variants.add(
        body(await handler(scoreEvent(scoreRequest(1, `u${String(i).padStart(6, '0')}`)), lambdaContext))
          .variant,
      );
    }
    expect(variants).toEqual(new Set(['champion']));
    expect(runtime.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input.TargetVariant)).toEqual(
      Array(40).fill('champion'),
    );
  });

  test('the forced fallback scores from segment CTRs without calling the endpoint, and reports no model error', async () => {
    appConfig.serves(flags({ forceSegmentCtrFallback: { enabled: true } }));
    const handler = handlerWithFlags();
    const result = await handler(scoreEvent(scoreRequest(3)), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(body(result).source).toBe('fallback');
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(0);
    expect(stdout.metricNames()).toContain('ServedFromFallback');
    expect(stdout.metricNames().filter((name) => name.startsWith('Model'))).toEqual([]);
  });
});
