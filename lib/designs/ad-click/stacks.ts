import { CfnOutput, Duration, type App, type Stack } from 'aws-cdk-lib';
import type { AppConfig } from '../../platform/config/app-config';
import { featureDefinitions } from '../../platform/constructs/data/feature-definitions';
import { FeatureFlags } from '../../platform/constructs/flags/feature-flags';
import { RealtimeScoring } from '../../platform/constructs/serving/realtime-scoring';
import { toApiGatewaySchema } from '../../platform/constructs/serving/request-model';
import { DataStack } from '../../platform/stacks/data-stack';
import { MlStack } from '../../platform/stacks/ml-stack';
import { MonitoringStack } from '../../platform/stacks/monitoring-stack';
import { stackNaming } from '../../platform/stacks/naming';
import { NetworkStack } from '../../platform/stacks/network-stack';
import { PipelineStack } from '../../platform/stacks/pipeline-stack';
import { ServingStack, metricsNamespace } from '../../platform/stacks/serving-stack';
import { FEATURE_GROUP_KEYS } from '../../../lambda/ad-click/score/config';
import { EVENTS_REQUEST_MODEL } from './contracts/events-api';
import { adClickFlags } from './contracts/feature-flags';
import { SEGMENT_CTR_FEATURE_GROUP, USER_FEATURE_GROUP } from './contracts/online-features';
import { ScoreRequest } from './contracts/score-request';
import type { AdClickDesign } from './design';

/**
 * The ad click predictor's stacks: the platform's network, data, model endpoint and training
 * pipeline, and the serving API with the real-time scoring pattern. No cache and no account
 * database: every request is scored from online features, and nothing runs after a promotion.
 */
export function addAdClickStacks(app: App, config: AppConfig, design: AdClickDesign): readonly Stack[] {
  const { profile, capacity } = config;
  const { id, props } = stackNaming(config);
  const network = new NetworkStack(app, id('Network'), { ...props('network', 'private network'), profile });
  const data = new DataStack(app, id('Data'), {
    ...props('data', 'events, online features and artefacts'),
    profile,
    network: network.network,
    accountDatabase: false,
    featureGroups: [
      {
        id: 'UserFeatures',
        description: 'User features for click prediction: age group and country',
        features: featureDefinitions(USER_FEATURE_GROUP.schema),
        recordIdentifier: USER_FEATURE_GROUP.recordIdentifier,
        eventTime: USER_FEATURE_GROUP.eventTime,
      },
      {
        id: 'SegmentCtr',
        description: 'Click-through rate per placement and ad category, the scoring fallback',
        features: featureDefinitions(SEGMENT_CTR_FEATURE_GROUP.schema),
        recordIdentifier: SEGMENT_CTR_FEATURE_GROUP.recordIdentifier,
        eventTime: SEGMENT_CTR_FEATURE_GROUP.eventTime,
      },
    ],
  });
  const ml = new MlStack(app, id('Ml'), { ...props('ml', 'model endpoint'), config, data });
  const serving = new ServingStack(app, id('Serving'), {
    ...props('serving', 'real-time scoring API'),
    config,
    events: data.ingestion.deliveryStream,
    eventsHandler: 'ad-click/events',
    eventsRequestModel: EVENTS_REQUEST_MODEL,
  });
  // The A/B split, challenger kill switch and a forced segment-CTR fallback, changed without a deploy.
  // The scoring function runs outside the VPC and reaches AppConfig's public endpoint.
  const flags = new FeatureFlags(serving, 'Flags', {
    flags: adClickFlags(ml.endpoint.variants),
    variantNames: ml.endpoint.variants.map((v) => v.name),
    validatorHandler: 'ad-click/flags-validator',
    description: 'Feature flags of POST /v1/ads/score',
    rollout: profile.name === 'production' ? 'canary' : 'all-at-once',
    logRetention: profile.logRetention,
    logRemovalPolicy: profile.removalPolicy,
    removalPolicy: profile.removalPolicy,
  });
  const scoring = new RealtimeScoring(serving, 'Scoring', {
    handlerFolder: 'ad-click/score',
    description: 'Serves POST /v1/ads/score',
    endpoint: ml.endpoint,
    featureGroups: {
      [FEATURE_GROUP_KEYS.user]: data.featureGroups.UserFeatures,
      [FEATURE_GROUP_KEYS.segmentCtr]: data.featureGroups.SegmentCtr,
    },
    featureTimeoutMs: capacity.featureReadTimeoutMs,
    modelTimeoutMs: capacity.modelTimeoutMs,
    fallbackPrior: design.scoring.globalPriorCtr,
    timeout: capacity.functionTimeout,
    reservedConcurrency: capacity.reservedConcurrency,
    metricsNamespace: metricsNamespace(design.id),
    flags,
    logRetention: profile.logRetention,
    logRemovalPolicy: profile.removalPolicy,
  });
  serving.api.addFunctionRoute('POST', '/v1/ads/score', scoring.function, {
    bodySchema: toApiGatewaySchema(ScoreRequest),
  });
  new CfnOutput(serving, 'ScoringFunctionName', { value: scoring.function.functionName });
  const pipeline = new PipelineStack(app, id('Pipeline'), {
    ...props('pipeline', 'training pipeline'),
    config,
    network: network.network,
    data,
    ml,
  });
  const monitoring = new MonitoringStack(app, id('Monitoring'), {
    ...props('monitoring', 'dashboard and alarms'),
    config,
    data,
    ml,
    serving,
    pipeline,
  });
  monitoring.monitoring
    .monitorFunction({
      name: 'Scoring',
      function: scoring.function,
      servesRequests: true,
      sizedConcurrency: true,
    })
    .addGraphs('Scoring fallback', [
      {
        title: 'Answers from the segment CTR fallback, not the model',
        metrics: [scoring.metricServedFromFallback({ label: 'Served from fallback' })],
      },
    ]);
  // A scheduled pipeline retrains on a cadence; its successful runs are the model's freshness.
  if (profile.training.scheduleEnabled) {
    monitoring.monitoring.monitorFreshness(
      'Model',
      'Training pipeline runs that succeeded',
      pipeline.pipeline.stateMachine.metricSucceeded({ period: Duration.hours(1) }),
    );
  }
  return [network, data, ml, serving, pipeline, monitoring];
}
