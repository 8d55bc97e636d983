import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SageMakerFeatureStoreRuntimeClient } from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ScoreRequest } from '../../../lib/designs/ad-click/contracts';
import type { Degradation } from '../../platform/realtime/fallback';
import { SCORING_METRICS } from '../../platform/realtime/function-contract';
import { errorResponse, jsonResponse } from '../../platform/realtime/http';
import { JsonEndpoint } from '../../platform/realtime/json-endpoint';
import { OnlineRecordReader } from '../../platform/realtime/online-records';
import { parseJsonBody } from '../../platform/realtime/request-body';
import { powertools } from '../../platform/shared/lambda-entry';
import { readScoringConfig, type ScoringConfig } from './config';
import { ClickModelClient } from './model-client';
import { scoreAds, type ScoreDependencies } from './score';
import { scoringFlags } from './scoring-flags';
import { FLAG_PROBLEM_METRIC } from '../../platform/feature-flags/function-flags';
import type { FlagReadProblem } from '../../platform/feature-flags/flag-reader';

/**
 * A request with 100 candidates of 64-character ids is about 20 KB; 64 KiB leaves room for
 * whitespace and is refused before it is parsed above that.
 */
export const MAX_BODY_BYTES = 64 * 1024;

export { EMPTY_FLUSH_WARNING } from '../../platform/shared/lambda-entry';

/**
 * Only degradations are counted, so most invocations store no metric: the shared Powertools entry
 * keeps the flush's warning about that out of the log, and only that warning.
 */
const { logger, metrics, tracer } = powertools();

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * Builds the function's long-lived parts, once per container: the Feature Store and SageMaker
 * runtime clients, and the decorated handler. Exported for tests and local runs.
 */
export function createHandler(config: ScoringConfig): Handler {
  // A second attempt only where it can fit: the SDK retries a throttled or failed read inside the
  // deadline, which still bounds the total. The model is asked once: the fallback answers a slow one.
  const featureStore = tracer.captureAWSv3Client(new SageMakerFeatureStoreRuntimeClient({ maxAttempts: 2 }));
  const runtime = tracer.captureAWSv3Client(new SageMakerRuntimeClient({ maxAttempts: 1 }));
  const deps: ScoreDependencies = {
    records: new OnlineRecordReader(featureStore, config.featureTimeoutMs),
    model: new ClickModelClient(new JsonEndpoint(runtime, config.endpointName, config.modelTimeoutMs)),
    userFeatureGroup: config.userFeatureGroup,
    segmentCtrFeatureGroup: config.segmentCtrFeatureGroup,
    variants: config.variants,
    globalPriorCtr: config.globalPriorCtr,
    onDegradation: reportDegradation,
    onUnusableRecords: (n: number) => metrics.addMetric(SCORING_METRICS.recordsUnusable, MetricUnit.Count, n),
  };
  const applyFlags = scoringFlags(config, {
    onProblem: reportFlagProblem,
    wrapClient: (client) => tracer.captureAWSv3Client(client),
  });

  class ScoreFunction {
    @tracer.captureLambdaHandler({ captureResponse: false })
    @logger.injectLambdaContext()
    @metrics.logMetrics()
    async handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
      const requestId = event.requestContext?.requestId ?? context.awsRequestId;
      try {
        if (event.httpMethod !== undefined && event.httpMethod !== 'POST') {
          count(SCORING_METRICS.badRequest);
          return errorResponse(405, 'BadRequest', 'use POST', 'method', { Allow: 'POST' });
        }
        const body = parseJsonBody(event, ScoreRequest, MAX_BODY_BYTES);
        if (!body.ok) {
          count(SCORING_METRICS.badRequest);
          return errorResponse(body.statusCode, 'BadRequest', body.message, body.field);
        }
        const { response, globalPriorCount } = await scoreAds(await applyFlags(deps), body.value, requestId);
        if (response.source === 'fallback') {
          count(SCORING_METRICS.servedFromFallback);
          if (globalPriorCount > 0) count(SCORING_METRICS.globalPriorCandidates, globalPriorCount);
        }
        return jsonResponse(200, response);
      } catch (error) {
        // Only a defect of this code reaches here: every dependency failure is a fallback.
        logger.error('unexpected failure', { requestId, error: error as Error });
        count(SCORING_METRICS.unexpectedError);
        return errorResponse(500, 'InternalError', 'the request could not be scored', undefined);
      }
    }
  }
  const instance = new ScoreFunction();
  return instance.handler.bind(instance);
}

function count(name: string, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

const degradationMetric: Record<Degradation, string> = {
  'records-timeout': SCORING_METRICS.recordsTimeout,
  'records-error': SCORING_METRICS.recordsError,
  'model-timeout': SCORING_METRICS.modelTimeout,
  'model-error': SCORING_METRICS.modelError,
  'model-answer-invalid': SCORING_METRICS.modelAnswerInvalid,
};

/** Flags AppConfig could not give, or gave broken: the request is scored with the last good ones. */
function reportFlagProblem(problem: FlagReadProblem, error: unknown): void {
  count(FLAG_PROBLEM_METRIC[problem]);
  logger.warn(`feature flags ${problem}`, { error: error as Error });
}

function reportDegradation(kind: Degradation, error: unknown): void {
  count(degradationMetric[kind]);
  logger.warn(kind, { error: error as Error });
}

let deployed: Handler | undefined;

/** The Lambda entry point. */
export const handler: Handler = (event, context) => {
  deployed ??= createHandler(readScoringConfig(process.env));
  return deployed(event, context);
};
