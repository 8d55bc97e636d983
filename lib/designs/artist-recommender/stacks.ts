import type { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { AppConfig } from '../../platform/config/app-config';
import { CachedRanking } from '../../platform/constructs/serving/cached-ranking/cached-ranking';
import { FeatureFlags } from '../../platform/constructs/flags/feature-flags';
import { DataStack } from '../../platform/stacks/data-stack';
import { MlStack } from '../../platform/stacks/ml-stack';
import { MonitoringStack } from '../../platform/stacks/monitoring-stack';
import { successfulInvocations } from '../../platform/constructs/monitoring/system-monitoring';
import { NetworkStack } from '../../platform/stacks/network-stack';
import { PipelineStack } from '../../platform/stacks/pipeline-stack';
import { ServingStack, metricsNamespace } from '../../platform/stacks/serving-stack';
import { stackNaming } from '../../platform/stacks/naming';
import { featureDefinitions } from '../../platform/constructs/data/feature-definitions';
import { EVENTS_REQUEST_MODEL } from './contracts/events-api';
import { FEEDBACK_REQUEST_MODEL } from './contracts/feedback-api';
import { recommenderFlags } from './contracts/feature-flags';
import { USER_FEATURE_GROUP } from './contracts/features';
import type { ArtistRecommenderDesign } from './design';
import { loadBootstrapCache } from './bootstrap-cache-load';
import { loadCacheAfterPromotion } from './cache-load';
import { EtlStack } from './etl-stack';
import { FeedbackLoop } from './feedback-loop';
import { chooseFeatureEngine } from '../../platform/config/feature-engine';

/**
 * The recommender's stacks, split by lifecycle: the platform's network, data, model endpoint and
 * training pipeline; its own daily SQL ETL; the serving API with the cached-ranking pattern, whose
 * cache the pipeline reloads after every promotion.
 */
export function addArtistRecommenderStacks(
  app: App,
  config: AppConfig,
  design: ArtistRecommenderDesign,
): readonly Stack[] {
  const { profile, capacity } = config;
  const { id, props } = stackNaming(config);
  const network = new NetworkStack(app, id('Network'), {
    ...props('network', 'private network'),
    profile,
  });
  // Where the event features are built follows from the requirements: past one database, the lake.
  const { engine: featureEngine } = chooseFeatureEngine({
    dailyActiveUsers: design.requirements.dailyActiveUsers,
    eventsPerUserPerDay: design.data.eventsPerUserPerDay,
    historyDays: design.data.historyDays,
  });
  const data = new DataStack(app, id('Data'), {
    ...props('data', 'events, accounts, features and artefacts'),
    profile,
    network: network.network,
    accountDatabase: true,
    eventLake: featureEngine === 'lake',
    featureGroups: [
      {
        id: 'UserFeatures',
        description: 'User features: age group, k-anonymous location, favourite artists and songs',
        features: featureDefinitions(USER_FEATURE_GROUP.schema),
        recordIdentifier: USER_FEATURE_GROUP.recordIdentifier,
        eventTime: USER_FEATURE_GROUP.eventTime,
      },
    ],
  });
  const etl = new EtlStack(app, id('Etl'), {
    ...props('etl', 'daily ETL: events and accounts to features and a training snapshot'),
    config,
    network: network.network,
    data,
    database: data.database!,
    userFeatures: data.featureGroups.UserFeatures,
    policy: design.data,
    lake: data.lake,
  });
  const ml = new MlStack(app, id('Ml'), { ...props('ml', 'model endpoint'), config, data });
  const serving = new ServingStack(app, id('Serving'), {
    ...props('serving', 'cache, recommendation function and API'),
    config,
    events: data.ingestion.deliveryStream,
    eventsHandler: 'artist-recommender/events',
    eventsRequestModel: EVENTS_REQUEST_MODEL,
  });
  // The serving function's only AWS API call is the model endpoint's runtime API.
  network.network.addInterfaceEndpoint(
    'SageMakerRuntime',
    ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  );
  // The score threshold, A/B split, challenger kill switch and model-on-miss, changed without a deploy.
  const flags = new FeatureFlags(serving, 'Flags', {
    flags: recommenderFlags({
      variants: ml.endpoint.variants,
      scoreThreshold: design.ranking.scoreThreshold,
    }),
    variantNames: ml.endpoint.variants.map((v) => v.name),
    validatorHandler: 'artist-recommender/flags-validator',
    description: 'Feature flags of GET /v1/users/{userId}/recommendations',
    rollout: profile.name === 'production' ? 'canary' : 'all-at-once',
    logRetention: profile.logRetention,
    logRemovalPolicy: profile.removalPolicy,
    removalPolicy: profile.removalPolicy,
  });
  // The serving function reads the flags from its isolated VPC: AppConfig's data plane endpoint.
  network.network.addInterfaceEndpoint('AppConfigData', ec2.InterfaceVpcEndpointAwsService.APPCONFIGDATA);
  const ranking = new CachedRanking(serving, 'Ranking', {
    servingHandler: 'artist-recommender/recommendations',
    loaderHandler: 'artist-recommender/cache-loader',
    description: 'Serves GET /v1/users/{userId}/recommendations',
    topK: design.ranking.topK,
    scoreThreshold: design.ranking.scoreThreshold,
    network: network.network,
    profile,
    capacity,
    modelEndpoint: ml.endpoint,
    flags,
    metricsNamespace: metricsNamespace(design.id),
    logRetention: profile.logRetention,
    logRemovalPolicy: profile.removalPolicy,
  });
  serving.api.addFunctionRoute('GET', '/v1/users/{userId}/recommendations', ranking.servingFunction, {
    pathParameters: ['userId'],
    queryParameters: { limit: false },
  });
  // What was served (from the function's log) and what users did with it (POST /v1/feedback).
  const feedbackLoop = new FeedbackLoop(serving, 'FeedbackLoop', {
    servingLogGroup: ranking.servingFunction.logGroup,
    rawEvents: data.rawEvents.bucket,
    key: data.key,
    events: data.ingestion.deliveryStream,
    variants: ml.endpoint.variants,
    metricsNamespace: metricsNamespace(design.id),
    profile,
  });
  serving.api.addFunctionRoute('POST', '/v1/feedback', feedbackLoop.feedback.function, {
    bodySchema: FEEDBACK_REQUEST_MODEL,
  });
  const pipeline = new PipelineStack(app, id('Pipeline'), {
    ...props('pipeline', 'training pipeline'),
    config,
    network: network.network,
    data,
    ml,
    afterPromotion: loadCacheAfterPromotion({
      loader: ranking.loader.function,
      artifacts: data.artifacts.bucket,
      key: data.key,
    }),
  });
  loadBootstrapCache(pipeline, { ml, loader: ranking.loader.function, profile });
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
      name: 'Recommendations',
      function: ranking.servingFunction,
      servesRequests: true,
      sizedConcurrency: true,
    })
    .monitorRankingCache(ranking.cache, ranking.serving.metricCacheHitRatio())
    .monitorFunction({ name: 'Feedback', function: feedbackLoop.feedback.function, servesRequests: true })
    .monitorFunction({ name: 'CacheLoader', function: ranking.loader.function, servesRequests: false })
    .monitorStateMachine('Etl', etl.pipeline.stateMachine)
    .monitorCtr(feedbackLoop, ml.endpoint.variants);
  // Only a scheduled pipeline refreshes the lists on a cadence; a sandbox trains when asked.
  if (profile.training.scheduleEnabled) {
    monitoring.monitoring.monitorFreshness(
      'RecommendationSet',
      'Recommendation set loads (successful cache loader runs)',
      successfulInvocations(ranking.loader.function),
    );
  }
  return [network, data, etl, ml, serving, pipeline, monitoring];
}

/** The recommender's stacks by layer, typed: for tests and tools that reach into one of them. */
export interface ArtistRecommenderStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly etl: EtlStack;
  readonly ml: MlStack;
  readonly serving: ServingStack;
  readonly pipeline: PipelineStack;
  readonly monitoring: MonitoringStack;
}

/** Picks the recommender's stacks out of an app's stacks by their class. */
export function artistRecommenderStacks(stacks: readonly Stack[]): ArtistRecommenderStacks {
  const one = <T extends Stack>(type: abstract new (...args: never[]) => T): T => {
    const found = stacks.filter((stack): stack is T => stack instanceof type);
    if (found.length !== 1) throw new Error(`expected one ${type.name}, found ${found.length}`);
    return found[0];
  };
  return {
    network: one(NetworkStack),
    data: one(DataStack),
    etl: one(EtlStack),
    ml: one(MlStack),
    serving: one(ServingStack),
    pipeline: one(PipelineStack),
    monitoring: one(MonitoringStack),
  };
}
