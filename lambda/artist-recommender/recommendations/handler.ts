/**
 * `GET /v1/users/{userId}/recommendations` (API Gateway REST proxy integration): the user's list
 * from the cache, else the model's answer, else the popularity list (`./recommend.ts`).
 *
 * The request is checked by `./request.ts`, which answers 405 for a method other than GET and 400
 * naming `userId` or `limit`: that is the HTTP contract of the resource, so the event is not put
 * through an envelope schema that would answer a malformed one differently.
 * Metrics: ServedFromModel, ServedFromFallback, Unavailable, BadRequest, UnexpectedError and the
 * degradations (CacheError, CacheWriteError, ModelError, NoRecommendationSet, and FlagsUnavailable or
 * FlagsInvalid when the feature flags cannot be read: `./serving-flags.ts`); a cache hit writes none.
 * Environment: see `./config.ts`.
 */
import type { LambdaInterface } from '@aws-lambda-powertools/commons/types';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorResponse, jsonResponse } from '../../platform/realtime/http';
import { SharedCacheClient } from '../../platform/shared/cache-client';
import { powertools } from '../../platform/shared/lambda-entry';
import { readServingConfig, type ServingConfig } from './config';
import { SageMakerModelClient, createRuntimeClient } from './model-client';
import { recommend, type Degradation, type RecommendDependencies, type Source } from './recommend';
import { CacheRecommendationStore } from './recommendation-store';
import { BadRequestError, parseRecommendationRequest } from './request';
import { servingFlags } from './serving-flags';
import { FLAG_PROBLEM_METRIC } from '../../platform/feature-flags/function-flags';
import type { FlagReadProblem } from '../../platform/feature-flags/flag-reader';
import { recordServedList } from './served-list';

/**
 * Metrics are written as EMF log lines, flushed by the library after every invocation that stored
 * one. A cache hit, the common case, stores none, so it writes no line (and no warning about it):
 * at the design's peak a line per request would cost more in log ingestion than the function
 * itself. Hits are Lambda's Invocations minus the outcomes counted here, so the cache hit ratio is
 * a metric-math expression over them.
 */
const { logger, metrics, tracer } = powertools();

/** What the handling reads of the Lambda context; tests and local runs pass only the request id. */
export type ServingContext = Pick<Context, 'awsRequestId'>;

export type ServingHandler = ((
  event: APIGatewayProxyEvent,
  context: ServingContext,
) => Promise<APIGatewayProxyResult>) & { close(): void };

/**
 * Builds the function's long-lived parts: one cache client and one model client per container,
 * reused by every invocation, and the handler that logs with the Lambda context, flushes its
 * metrics and is traced. Exported for tests and local runs, which pass their own environment.
 */
export function createHandler(
  config: ServingConfig,
  options: {
    cacheCa?: string;
    /** Write each served list's line (./served-list.ts); off only to measure its cost. @default true */
    recordServedLists?: boolean;
  } = {},
): ServingHandler {
  const cache = new SharedCacheClient({
    host: config.cacheHost,
    port: config.cachePort,
    ca: options.cacheCa,
    connectTimeoutMs: config.cacheConnectTimeoutMs,
    commandTimeoutMs: config.cacheCommandTimeoutMs,
  });

  const deps: RecommendDependencies = {
    store: new CacheRecommendationStore(() => cache.get(), config.pointerTtlMs),
    model: config.modelEndpointName
      ? new SageMakerModelClient(config.modelEndpointName, config.modelTimeoutMs, async () =>
          tracer.captureAWSv3Client(await createRuntimeClient()),
        )
      : undefined,
    variants: config.variants,
    scoreThreshold: config.scoreThreshold,
    modelTopK: config.modelTopK,
    modelAnswerTtlSeconds: config.modelAnswerTtlSeconds,
    onDegradation: reportDegradation,
  };
  const applyFlags = servingFlags(config, {
    onProblem: reportFlagProblem,
    wrapClient: (client) => tracer.captureAWSv3Client(client),
  });

  class RecommendationsFunction implements LambdaInterface {
    @tracer.captureLambdaHandler({ captureResponse: false })
    @logger.injectLambdaContext()
    @metrics.logMetrics()
    public async handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
      const requestId = event.requestContext?.requestId ?? context.awsRequestId;
      try {
        const request = parseRecommendationRequest(event, config.defaultLimit);
        const answer = await recommend(await applyFlags(deps), request);
        if (!answer) {
          count('Unavailable');
          return errorResponse(
            503,
            'Unavailable',
            'no recommendation source is reachable; retry later',
            undefined,
            {
              'retry-after': String(config.retryAfterSeconds),
            },
          );
        }
        if (answer.source !== 'cache') count(servedMetric[answer.source]);
        if (options.recordServedLists !== false) {
          recordServedList({ requestId, userId: request.userId, answer, servedAt: Date.now() });
        }
        return jsonResponse(200, { userId: request.userId, requestId, ...answer });
      } catch (error) {
        if (error instanceof BadRequestError) {
          count('BadRequest');
          // A 405 names the methods the resource allows (RFC 9110, section 15.5.6).
          const allow = error.statusCode === 405 ? { Allow: 'GET' } : undefined;
          return errorResponse(error.statusCode, 'BadRequest', error.message, error.field, allow);
        }
        logger.error('unexpected failure', { requestId, error: error as Error });
        count('UnexpectedError');
        return errorResponse(503, 'Unavailable', 'the request could not be served; retry later', undefined, {
          'retry-after': String(config.retryAfterSeconds),
        });
      }
    }
  }

  const entry = new RecommendationsFunction();
  const handle = entry.handler.bind(entry) as (
    event: APIGatewayProxyEvent,
    context: ServingContext,
  ) => Promise<APIGatewayProxyResult>;
  return Object.assign(handle, { close: () => cache.close() });
}

function count(name: string): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
}

/** Flags AppConfig could not give, or gave broken: the request is served with the last good ones. */
function reportFlagProblem(problem: FlagReadProblem, error: unknown): void {
  count(FLAG_PROBLEM_METRIC[problem]);
  logger.warn(`feature flags ${problem}`, { error: error as Error });
}

function reportDegradation(kind: Degradation, error?: unknown): void {
  count(metricName[kind]);
  if (kind !== 'no-version') logger.warn(kind, { error: error as Error });
}

const servedMetric: Record<Exclude<Source, 'cache'>, string> = {
  model: 'ServedFromModel',
  fallback: 'ServedFromFallback',
};

const metricName: Record<Degradation, string> = {
  'cache-error': 'CacheError',
  'cache-write-error': 'CacheWriteError',
  'model-error': 'ModelError',
  'no-version': 'NoRecommendationSet',
};

let deployed: ServingHandler | undefined;

/** The Lambda entry point. */
export const handler = (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
  deployed ??= createHandler(readServingConfig(process.env));
  return deployed(event, context);
};
