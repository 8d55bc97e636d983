import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  RealtimeScoring,
  type RealtimeScoringProps,
} from '../../../../lib/platform/constructs/serving/realtime-scoring';
import { FeatureGroup } from '../../../../lib/platform/constructs/data/feature-group';
import { ModelEndpoint } from '../../../../lib/platform/constructs/ml/model-endpoint';

/**
 * Any handler folder will do: what the construct promises is the function's environment, its IAM and
 * its settings, not the code. Bundling is skipped (`aws:cdk:bundling-stacks`), as it changes neither.
 */
const HANDLER_FOLDER = 'platform/evaluation-gate';

function build(overrides: Partial<RealtimeScoringProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Scoring', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'OnlineStoreKey');
  const scoring = new RealtimeScoring(stack, 'Scoring', {
    handlerFolder: HANDLER_FOLDER,
    endpoint: ModelEndpoint.fromEndpointAttributes(stack, 'Endpoint', {
      endpointName: 'ranker-endpoint',
      variants: [
        { name: 'champion', weight: 0.9 },
        { name: 'challenger', weight: 0.1 },
      ],
    }),
    featureGroups: {
      profile: FeatureGroup.fromFeatureGroupName(stack, 'profiles', key),
      segmentPrior: FeatureGroup.fromFeatureGroupName(stack, 'segment-priors'),
    },
    featureTimeoutMs: 40,
    modelTimeoutMs: 150,
    fallbackPrior: 0.02,
    timeout: Duration.seconds(3),
    reservedConcurrency: 20,
    metricsNamespace: 'Blueprint',
    ...overrides,
  });
  return { stack, key, scoring, template: Template.fromStack(stack) };
}

describe('RealtimeScoring', () => {
  const { stack, key, scoring, template } = build();

  test('writes the deadlines, the endpoint, its variants, the groups and the prior into the environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          MODEL_ENDPOINT_NAME: 'ranker-endpoint',
          AB_VARIANTS: JSON.stringify([
            { name: 'champion', weight: 0.9 },
            { name: 'challenger', weight: 0.1 },
          ]),
          FEATURE_GROUP_PROFILE: 'profiles',
          FEATURE_GROUP_SEGMENT_PRIOR: 'segment-priors',
          FEATURE_TIMEOUT_MS: '40',
          MODEL_TIMEOUT_MS: '150',
          FALLBACK_PRIOR: '0.02',
          POWERTOOLS_SERVICE_NAME: 'scoring',
          POWERTOOLS_METRICS_NAMESPACE: 'Blueprint',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
      Timeout: 3,
      ReservedConcurrentExecutions: 20,
      TracingConfig: { Mode: 'Active' },
    });
  });

  test('may invoke exactly the endpoint and read exactly the two groups, and decrypt with the store key', () => {
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = stack.resolve(policy.Properties.PolicyDocument.Statement) as Array<{
      Action: string | string[];
      Resource: unknown;
    }>;
    const arn = (resource: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:sagemaker:eu-west-1:123456789012:${resource}`]],
    });
    const scoped = [
      { Action: 'sagemaker:InvokeEndpoint', Effect: 'Allow', Resource: arn('endpoint/ranker-endpoint') },
      // One statement per group, from each group's own grantReadOnline.
      {
        Action: ['sagemaker:GetRecord', 'sagemaker:BatchGetRecord'],
        Effect: 'Allow',
        Resource: arn('feature-group/profiles'),
      },
      {
        Action: ['sagemaker:GetRecord', 'sagemaker:BatchGetRecord'],
        Effect: 'Allow',
        Resource: arn('feature-group/segment-priors'),
      },
      {
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] },
      },
    ];
    expect(statements).toEqual(expect.arrayContaining(scoped));
    // Every other statement is X-Ray's, whose actions take no resource.
    for (const statement of statements.filter(
      (s) => !scoped.some((e) => JSON.stringify(e) === JSON.stringify(s)),
    )) {
      expect(statement.Resource).toBe('*');
      expect([statement.Action].flat().every((a) => a.startsWith('xray:'))).toBe(true);
    }
  });

  test('charts its metrics under its namespace and service', () => {
    expect(stack.resolve(scoring.metricServedFromFallback().toMetricConfig().metricStat)).toMatchObject({
      namespace: 'Blueprint',
      metricName: 'ServedFromFallback',
      dimensions: [{ name: 'service', value: 'scoring' }],
      statistic: 'Sum',
    });
    expect(scoring.metricUnexpectedErrors().metricName).toBe('UnexpectedError');
  });

  test('refuses deadlines that leave the function no time to answer', () => {
    expect(() =>
      build({ featureTimeoutMs: 1000, modelTimeoutMs: 2000, timeout: Duration.seconds(3) }),
    ).toThrow(/timeout: must exceed featureTimeoutMs \+ modelTimeoutMs \(3000 ms\)/);
  });

  test('names every bad prop in one error', () => {
    let message = '';
    try {
      build({
        handlerFolder: '../outside',
        featureTimeoutMs: 0,
        modelTimeoutMs: 12.5,
        fallbackPrior: 1.5,
        reservedConcurrency: 0,
        metricsNamespace: '',
        featureGroups: {
          'bad key': FeatureGroup.fromFeatureGroupName(new Stack(), 'g'),
        },
        endpoint: {
          ...ModelEndpoint.fromEndpointAttributes(new Stack(), 'E', {
            endpointName: 'e',
            variants: [{ name: 'champion', weight: 1 }],
          }),
          variants: [{ name: 'under_score', weight: 0 }],
        },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const field of [
      'handlerFolder',
      'featureTimeoutMs',
      'modelTimeoutMs',
      'fallbackPrior',
      'reservedConcurrency',
      'metricsNamespace',
      'featureGroups.bad key',
      'endpoint.variants[0].name',
      'endpoint.variants: must give at least one variant a positive weight',
    ]) {
      expect(message).toContain(field);
    }
  });

  test('refuses no feature groups, and the same group under two keys', () => {
    expect(() => build({ featureGroups: {} })).toThrow(/featureGroups: must name at least one/);
    const group = FeatureGroup.fromFeatureGroupName(new Stack(), 'g');
    expect(() => build({ featureGroups: { a: group, b: group } })).toThrow(
      /names the same feature group twice/,
    );
  });
});
