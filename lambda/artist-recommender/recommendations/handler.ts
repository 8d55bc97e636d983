import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { SharedCacheClient } from '../../platform/shared/cache-client';
import { readServingConfig, type ServingConfig } from './config';
import { errorResponse, jsonResponse } from './http';
import { SageMakerModelClient } from './model-client';
import { recommend, type Degradation, type RecommendDependencies, type Source } from './recommend';
import { CacheRecommendationStore } from './recommendation-store';
import { BadRequestError, parseRecommendationRequest } from './request';

const logger = new Logger();
const metrics = new Metrics();

/**
 * Builds the function's long-lived parts: one cache client and one model client per container,
 * reused by every invocation. Exported for tests and local runs, which pass their own environment.
 */
export function createHandler(config: ServingConfig, options: { cacheCa?: string } = {}) {
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
      ? new SageMakerModelClient(config.modelEndpointName, config.modelTimeoutMs)
      : undefined,
    variants: config.variants,
    scoreThreshold: config.scoreThreshold,
    modelTopK: config.modelTopK,
    modelAnswerTtlSeconds: config.modelAnswerTtlSeconds,
    onDegradation: reportDegradation,
  };

  const handle = async (event: APIGatewayProxyEvent, context: Pick<Context, 'awsRequestId'>) => {
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    try {
      const request = parseRecommendationRequest(event, config.defaultLimit);
      const answer = await recommend(deps, request);
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
    } finally {
      if (metricsPending) metrics.publishStoredMetrics();
      metricsPending = false;
    }
  };

  return Object.assign(handle, { close: () => cache.close() });
}

/**
 * Metrics are written as EMF log lines. A cache hit, the common case, writes none: at the design's
 * peak a line per request would cost more in log ingestion than the function itself, and add a
 * synchronous write to the hot path. Hits are Lambda's Invocations minus the outcomes counted here
 * (`ServedFromModel`, `ServedFromFallback`, `Unavailable`, `BadRequest`, `UnexpectedError`), so the
 * cache hit ratio is a metric-math expression over them.
 */
let metricsPending = false;

function count(name: string): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
  metricsPending = true;
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

let deployed: ((event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>) | undefined;

/** The Lambda entry point. */
export const handler = (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
  deployed ??= createHandler(readServingConfig(process.env));
  return deployed(event, context);
};
