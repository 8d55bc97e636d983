import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DlcImage } from '../../../../lib/platform/constructs/ml/dlc-image';
import {
  ModelEndpoint,
  type EndpointHosting,
  type IModelEndpoint,
} from '../../../../lib/platform/constructs/ml/model-endpoint';

const VARIANTS = [
  { name: 'champion', weight: 0.9 },
  { name: 'challenger', weight: 0.1 },
];
const INSTANCES: EndpointHosting = {
  kind: 'instances',
  instanceType: 'ml.g5.xlarge',
  minInstances: 2,
  maxInstances: 4,
  targetInvocationsPerInstancePerMinute: 600,
};

function endpointIn(stack: Stack, props: { role?: iam.IRole } = {}): ModelEndpoint {
  return new ModelEndpoint(stack, 'Endpoint', {
    image: DlcImage.pytorchInference('gpu'),
    initialModelData: { bucket: new s3.Bucket(stack, 'Models'), key: 'bootstrap/model.tar.gz' },
    variants: VARIANTS,
    hosting: INSTANCES,
    ...props,
  });
}

describe('ModelEndpoint metrics', () => {
  const stack = new Stack();
  const endpoint = endpointIn(stack);
  const endpointName = stack.resolve(
    Template.fromStack(stack).findResources('AWS::SageMaker::Endpoint')[
      stack.resolve(endpoint.endpoint.logicalId)
    ].Properties.EndpointName,
  );

  test.each([
    ['metricInvocations', 'Invocations', 'Sum'],
    ['metricModelLatency', 'ModelLatency', 'Average'],
    ['metricInvocation5XXErrors', 'Invocation5XXErrors', 'Sum'],
  ] as const)(
    '%s: AWS/SageMaker %s per minute, dimensioned by the name the endpoint is created with',
    (method, metricName, statistic) => {
      const champion = endpoint[method]();
      expect(champion.namespace).toBe('AWS/SageMaker');
      expect(champion.metricName).toBe(metricName);
      expect(champion.statistic).toBe(statistic);
      expect(champion.period.toMinutes()).toBe(1);
      expect(stack.resolve(champion.dimensions)).toEqual({
        EndpointName: endpointName,
        VariantName: 'champion',
      });
      const challenger = endpoint[method]({ variantName: 'challenger', statistic: 'p99' });
      expect(challenger.statistic).toBe('p99');
      expect(stack.resolve(challenger.dimensions)).toEqual({
        EndpointName: endpointName,
        VariantName: 'challenger',
      });
    },
  );

  test('a variant the endpoint does not have is refused, naming the ones it has', () => {
    expect(() => endpoint.metricInvocations({ variantName: 'champoin' })).toThrow(
      /no variant "champoin"; the endpoint's variants are champion, challenger/,
    );
  });

  test('an alarm in another stack on a helper metric synthesizes, with the endpoint name exported', () => {
    const app = new App();
    const ml = new Stack(app, 'Ml');
    const built = endpointIn(ml);
    const watcher = new Stack(app, 'Watcher');
    built.metricInvocation5XXErrors().createAlarm(watcher, 'Errors', { threshold: 1, evaluationPeriods: 1 });
    const alarm = Template.fromStack(watcher).findResources('AWS::CloudWatch::Alarm');
    const [dimensions] = Object.values(alarm).map((a) => a.Properties.Dimensions);
    expect(dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'VariantName', Value: 'champion' },
        { Name: 'EndpointName', Value: expect.anything() },
      ]),
    );
  });
});

describe('ModelEndpoint grants', () => {
  test('grantInvoke and grantDeploy return their grants; deploy covers the rollback alarms', () => {
    const stack = new Stack();
    const endpoint = endpointIn(stack);
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    const invoke = endpoint.grantInvoke(caller);
    const deploy = endpoint.grantDeploy(caller, [
      'arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/x-*',
    ]);
    expect(invoke).toBeInstanceOf(iam.Grant);
    expect(invoke.success).toBe(true);
    expect(deploy.success).toBe(true);
    const statements = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }] },
    });
    const actions = Object.values(statements).flatMap((p) =>
      p.Properties.PolicyDocument.Statement.map((s: { Action: unknown }) => s.Action),
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'sagemaker:InvokeEndpoint',
        ['sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint'],
        'cloudwatch:DescribeAlarms',
      ]),
    );
  });

  test('GIVEN a role THEN the models run as it, with the serving grants, and no role is created', () => {
    const stack = new Stack();
    const role = new iam.Role(stack, 'Mine', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    });
    const endpoint = endpointIn(stack, { role });
    expect(endpoint.modelRole).toBe(role);
    const template = Template.fromStack(stack);
    expect(
      Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.includes('ModelRole')),
    ).toEqual([]);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      ExecutionRoleArn: {
        'Fn::GetAtt': [stack.resolve((role.node.defaultChild as iam.CfnRole).logicalId), 'Arn'],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.resolve((role.node.defaultChild as iam.CfnRole).logicalId) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] }),
          Match.objectLike({ Action: 'cloudwatch:DescribeAlarms' }),
        ]),
      },
    });
  });
});

describe('ModelEndpoint.fromEndpointAttributes', () => {
  test('an imported endpoint has the same grants and metrics, its ARN in lower case', () => {
    const stack = new Stack(new App(), 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
    const imported: IModelEndpoint = ModelEndpoint.fromEndpointAttributes(stack, 'Imported', {
      endpointName: 'Scoring-Prod',
      variants: VARIANTS,
    });
    expect(stack.resolve(imported.endpointArn)).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:eu-west-1:123456789012:endpoint/scoring-prod'],
      ],
    });
    expect(imported.metricModelLatency({ variantName: 'challenger' }).dimensions).toEqual({
      EndpointName: 'Scoring-Prod',
      VariantName: 'challenger',
    });
    const fn = new iam.Role(stack, 'Fn', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(imported.grantInvoke(fn).success).toBe(true);
    new cloudwatch.Alarm(stack, 'Latency', {
      metric: imported.metricModelLatency(),
      threshold: 100_000,
      evaluationPeriods: 1,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      Dimensions: Match.arrayWith([{ Name: 'EndpointName', Value: 'Scoring-Prod' }]),
    });
  });

  test('bad attributes fail at once, each named', () => {
    const stack = new Stack();
    const name = new s3.Bucket(stack, 'Any').bucketName;
    expect(() =>
      ModelEndpoint.fromEndpointAttributes(stack, 'Bad', { endpointName: name, variants: [] }),
    ).toThrow(/variants: at least one is required\n {2}- endpointArn: required when endpointName is a token/);
  });
});

describe('ModelEndpoint workers per instance', () => {
  test('GIVEN a worker count THEN the model runs that many model-server workers per instance', () => {
    const stack = new Stack();
    new ModelEndpoint(stack, 'Endpoint', {
      image: DlcImage.pytorchInference('cpu'),
      initialModelData: { bucket: new s3.Bucket(stack, 'Models'), key: 'bootstrap/model.tar.gz' },
      variants: VARIANTS,
      hosting: { ...INSTANCES, instanceType: 'ml.m7i.large', workersPerInstance: 1 },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: Match.objectLike({
        Environment: Match.objectLike({ SAGEMAKER_MODEL_SERVER_WORKERS: '1' }),
      }),
    });
  });

  test('without one the model server keeps its default, and a bad count is refused, naming the field', () => {
    const stack = new Stack();
    endpointIn(stack);
    const [model] = Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Model'));
    expect(model.Properties.PrimaryContainer.Environment.SAGEMAKER_MODEL_SERVER_WORKERS).toBeUndefined();
    expect(
      () =>
        new ModelEndpoint(new Stack(), 'Endpoint', {
          image: DlcImage.pytorchInference('cpu'),
          initialModelData: { bucket: s3.Bucket.fromBucketName(new Stack(), 'B', 'models'), key: 'm.tar.gz' },
          variants: VARIANTS,
          hosting: { ...INSTANCES, workersPerInstance: 0 },
        }),
    ).toThrow(/hosting\.workersPerInstance: must be a positive integer/);
  });
});
