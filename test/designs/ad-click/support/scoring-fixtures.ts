import {
  BatchGetRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
  type BatchGetRecordCommandInput,
  type BatchGetRecordCommandOutput,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { readScoringConfig, type ScoringConfig } from '../../../../lambda/ad-click/score/config';
import type { ModelRequest, ScoreRequest } from '../../../../lib/designs/ad-click/contracts';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';

export const USER_GROUP = 'ad-click-users';
export const SEGMENT_GROUP = 'ad-click-segment-ctr';
export const ENDPOINT = 'ad-click-endpoint';
export const FEATURE_TIMEOUT_MS = 60;
export const MODEL_TIMEOUT_MS = 120;
export const GLOBAL_PRIOR = 0.031;

/** The environment RealtimeScoring writes, with test values. */
export const SCORING_ENVIRONMENT: Readonly<Record<string, string>> = {
  MODEL_ENDPOINT_NAME: ENDPOINT,
  AB_VARIANTS: JSON.stringify([
    { name: 'champion', weight: 0.5 },
    { name: 'challenger', weight: 0.5 },
  ]),
  FEATURE_GROUP_USER: USER_GROUP,
  FEATURE_GROUP_SEGMENT_CTR: SEGMENT_GROUP,
  FEATURE_TIMEOUT_MS: String(FEATURE_TIMEOUT_MS),
  MODEL_TIMEOUT_MS: String(MODEL_TIMEOUT_MS),
  FALLBACK_PRIOR: String(GLOBAL_PRIOR),
};

export function scoringConfig(overrides: Record<string, string> = {}): ScoringConfig {
  return readScoringConfig({ ...SCORING_ENVIRONMENT, ...overrides });
}

export function scoreRequest(candidates = 3, userId = 'u000042'): ScoreRequest {
  const categories = ['travel', 'finance', 'retail', 'gaming', 'auto'];
  return {
    userId,
    context: { device: 'mobile', placement: 'feed', hourOfDay: 13, dayOfWeek: 'tue' },
    candidates: Array.from({ length: candidates }, (_, i) => ({
      adId: `ad${String(i).padStart(5, '0')}`,
      advertiserId: `adv${String(i % 7).padStart(3, '0')}`,
      adCategory: categories[i % categories.length],
    })),
  };
}

/** A `POST /v1/ads/score` event as API Gateway's proxy integration sends it. */
export function scoreEvent(
  body: unknown,
  overrides: Partial<APIGatewayProxyEvent> = {},
): APIGatewayProxyEvent {
  return {
    resource: '/v1/ads/score',
    path: '/v1/ads/score',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      requestId: `3f1c2a9e-${Math.random().toString(16).slice(2, 6)}-4d5e-8f90-0123456789ab`,
    } as APIGatewayProxyEvent['requestContext'],
    ...overrides,
  };
}

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'score',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:score',
  memoryLimitInMB: '512',
  awsRequestId: 'local-request',
  logGroupName: '/aws/lambda/score',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => 3000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/**
 * The online store at the SDK boundary: records by group and identifier, answered as BatchGetRecord
 * does (only the requested features; a missing record is simply absent).
 */
export class FakeOnlineStore {
  readonly groups = new Map<string, Map<string, Record<string, string>>>();

  put(group: string, id: string, features: Record<string, string>): this {
    if (!this.groups.has(group)) this.groups.set(group, new Map());
    this.groups.get(group)!.set(id, features);
    return this;
  }

  answer(input: BatchGetRecordCommandInput): Partial<BatchGetRecordCommandOutput> {
    const records = [];
    for (const identifier of input.Identifiers ?? []) {
      const group = this.groups.get(identifier.FeatureGroupName!);
      for (const id of identifier.RecordIdentifiersValueAsString ?? []) {
        const features = group?.get(id);
        if (!features) continue;
        const names = identifier.FeatureNames ?? Object.keys(features);
        records.push({
          FeatureGroupName: identifier.FeatureGroupName!,
          RecordIdentifierValueAsString: id,
          Record: names
            .filter((name) => name in features)
            .map((name) => ({ FeatureName: name, ValueAsString: features[name] })),
        });
      }
    }
    return { Records: records, Errors: [], UnprocessedIdentifiers: [] };
  }
}

/** A store holding one user and the CTRs of two segments of the `feed` placement. */
export function seededStore(): FakeOnlineStore {
  return new FakeOnlineStore()
    .put(USER_GROUP, 'u000042', {
      user_id: 'u000042',
      age_group: '25-34',
      country: 'US',
      event_time: '2026-12-01T00:00:00Z',
    })
    .put(SEGMENT_GROUP, 'feed#travel', {
      segment_id: 'feed#travel',
      ctr: '0.052',
      impressions: '120000',
      event_time: '2026-12-01T00:00:00Z',
    })
    .put(SEGMENT_GROUP, 'feed#finance', {
      segment_id: 'feed#finance',
      ctr: '0.0125',
      impressions: '80000',
      event_time: '2026-12-01T00:00:00Z',
    });
}

/** A probability per candidate that depends on its ad id and the request's user, strictly in (0, 1). */
export function fakeProbability(request: ModelRequest, index: number): number {
  const seed = `${request.user.user_id}|${request.user.age_group}|${request.candidates[index].ad_id}`;
  let hash = 7;
  for (const ch of seed) hash = (hash * 31 + ch.charCodeAt(0)) % 9973;
  return Math.round((0.001 + (hash / 9973) * 0.2) * 1e6) / 1e6;
}

/** The endpoint's answer to a model request, as the inference handler writes it. */
export function modelAnswer(request: ModelRequest, modelVersion = 'ad-click-20261201-1') {
  return {
    probabilities: request.candidates.map((_, i) => fakeProbability(request, i)),
    model_version: modelVersion,
  };
}

export function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
}

export function decodeBody(body: unknown): unknown {
  return JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array));
}

/** Both SDK clients, mocked at the prototype and checked against their API models. */
export function mockScoringClients() {
  const featureStore = apiCheckedMockClient(SageMakerFeatureStoreRuntimeClient);
  const runtime = apiCheckedMockClient(SageMakerRuntimeClient);
  return {
    featureStore,
    runtime,
    /** The store answers from `store`; the endpoint answers as the model would. */
    healthy(store: FakeOnlineStore = seededStore()) {
      featureStore.on(BatchGetRecordCommand).callsFake((input) => store.answer(input));
      runtime.on(InvokeEndpointCommand).callsFake((input) => ({
        Body: encode(modelAnswer(decodeBody(input.Body) as ModelRequest)),
        ContentType: 'application/json',
      }));
    },
  };
}
