import type { App, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { AppConfig } from '../../platform/config/app-config';
import { CachedRanking } from '../../platform/constructs/serving/cached-ranking/cached-ranking';
import { DataStack } from '../../platform/stacks/data-stack';
import { MlStack } from '../../platform/stacks/ml-stack';
import { NetworkStack } from '../../platform/stacks/network-stack';
import { PipelineStack } from '../../platform/stacks/pipeline-stack';
import { ServingStack, metricsNamespace } from '../../platform/stacks/serving-stack';
import { stackNaming } from '../../platform/stacks/naming';
import { MAX_EVENTS_PER_REQUEST } from '../../../lambda/artist-recommender/events/limits';
import type { ArtistRecommenderDesign } from './design';
import { loadBootstrapCache } from './bootstrap-cache-load';
import { loadCacheAfterPromotion } from './cache-load';
import { EtlStack } from './etl-stack';

/** The user features the Feature Store keeps; the snapshot's `user_features.jsonl` has these fields. */
export const USER_FEATURES = [
  { name: 'user_id', type: 'String' },
  { name: 'age_group', type: 'String' },
  { name: 'location', type: 'String' },
  { name: 'top_artists', type: 'String' },
  { name: 'top_songs', type: 'String' },
  { name: 'interaction_count', type: 'Integral' },
  { name: 'event_time', type: 'String' },
] as const;

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
  const data = new DataStack(app, id('Data'), {
    ...props('data', 'events, accounts, features and artefacts'),
    profile,
    network: network.network,
    accountDatabase: true,
    featureGroups: [
      {
        id: 'UserFeatures',
        description: 'User features: age group, k-anonymous location, favourite artists and songs',
        features: USER_FEATURES,
        recordIdentifier: 'user_id',
        eventTime: 'event_time',
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
  });
  const ml = new MlStack(app, id('Ml'), { ...props('ml', 'model endpoint'), config, data });
  const serving = new ServingStack(app, id('Serving'), {
    ...props('serving', 'cache, recommendation function and API'),
    config,
    events: data.ingestion.deliveryStream,
    eventsHandler: 'artist-recommender/events',
    eventsRequestModel: {
      schema: apigateway.JsonSchemaVersion.DRAFT4,
      type: apigateway.JsonSchemaType.OBJECT,
      required: ['events'],
      properties: {
        events: { type: apigateway.JsonSchemaType.ARRAY, minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST },
      },
    },
  });
  // The serving function's only AWS API call is the model endpoint's runtime API.
  network.network.addInterfaceEndpoint('SageMakerRuntime', ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME);
  const ranking = new CachedRanking(serving, 'Ranking', {
    servingHandler: 'artist-recommender/recommendations',
    loaderHandler: 'artist-recommender/cache-loader',
    description: 'Serves GET /v1/users/{userId}/recommendations',
    topK: design.ranking.topK,
    scoreThreshold: design.ranking.scoreThreshold,
    network: network.network,
    profile,
    capacity,
    modelEndpoint: {
      endpointName: ml.endpoint.endpointName,
      endpointArn: ml.endpoint.endpointArn,
      variants: ml.endpoint.variants,
    },
    metricsNamespace: metricsNamespace(design.id),
    logRetention: profile.logRetention,
    logRemovalPolicy: profile.removalPolicy,
  });
  serving.api.addFunctionRoute('GET', '/v1/users/{userId}/recommendations', ranking.servingFunction, {
    pathParameters: ['userId'],
    queryParameters: { limit: false },
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
  return [network, data, etl, ml, serving, pipeline];
}
