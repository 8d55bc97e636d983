import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  FeatureFlags,
  type FeatureFlagsProps,
} from '../../../../lib/platform/constructs/flags/feature-flags';
import {
  CHALLENGER_TRAFFIC_DEFINITION,
  abWeightsDefinition,
  abWeightsSchema,
  abWeightsValue,
  flagValues,
  flagWithAttributes,
  numberIn,
  toggle,
  type FlagSet,
} from '../../../../lambda/platform/feature-flags/flag-document';

const VARIANTS = [
  { name: 'champion', weight: 0.9 },
  { name: 'challenger', weight: 0.1 },
];
const NAMES = VARIANTS.map((v) => v.name);

/** A flag set of the platform's own builders: a bounded number, the A/B weights, a switch. */
function flagSet(values: Record<string, unknown> = {}): FlagSet {
  return {
    schema: flagValues({
      cutoff: flagWithAttributes({ value: numberIn(-1, 1) }),
      abWeights: abWeightsSchema(NAMES),
      challengerTraffic: toggle(),
    }),
    definitions: {
      cutoff: {
        name: 'Cutoff',
        attributes: { value: { constraints: { type: 'number', minimum: -1, maximum: 1 } } },
      },
      abWeights: abWeightsDefinition(NAMES),
      challengerTraffic: CHALLENGER_TRAFFIC_DEFINITION,
    },
    defaults: {
      cutoff: { enabled: true, value: 0.1 },
      abWeights: abWeightsValue(VARIANTS),
      challengerTraffic: { enabled: true },
      ...values,
    } as FlagSet['defaults'],
  };
}

/** Any handler folder will do for the validator and the reader: bundling is skipped. */
function build(overrides: Partial<FeatureFlagsProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Serving', { env: { account: '123456789012', region: 'eu-west-1' } });
  const flags = new FeatureFlags(stack, 'Flags', {
    flags: flagSet(),
    variantNames: NAMES,
    validatorHandler: 'platform/evaluation-gate',
    description: 'Flags of the serving function',
    rollout: 'all-at-once',
    ...overrides,
  });
  const reader = new lambda.Function(stack, 'Reader', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  flags.bindTo(reader);
  return { stack, flags, template: Template.fromStack(stack) };
}

describe('FeatureFlags', () => {
  const { stack, flags, template } = build();

  test('makes an application, an environment and a hosted feature flag profile holding the defaults', () => {
    template.resourceCountIs('AWS::AppConfig::Application', 1);
    template.resourceCountIs('AWS::AppConfig::Environment', 1);
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      Type: 'AWS.AppConfig.FeatureFlags',
      LocationUri: 'hosted',
    });
    const versions = template.findResources('AWS::AppConfig::HostedConfigurationVersion');
    const [version] = Object.values(versions);
    expect(version.Properties.ContentType).toBe('application/json');
    expect(JSON.parse(version.Properties.Content)).toEqual({
      version: '1',
      flags: flagSet().definitions,
      values: flagSet().defaults,
    });
  });

  test('checks every version with its Lambda validator, which AppConfig may invoke', () => {
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      Validators: [
        { Type: 'LAMBDA', Content: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FlagsValidator'), 'Arn'] } },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'appconfig.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FlagsValidator'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FLAGS_VARIANT_NAMES: JSON.stringify(NAMES) }) },
    });
  });

  test('deploys the defaults with the predefined strategy of the rollout', () => {
    template.hasResourceProperties('AWS::AppConfig::Deployment', {
      DeploymentStrategyId: 'AppConfig.AllAtOnce',
      ConfigurationVersion: { Ref: Match.stringLikeRegexp('^Flags') },
    });
    template.resourceCountIs('AWS::AppConfig::DeploymentStrategy', 0);
    const canary = build({ rollout: 'canary' }).template;
    canary.hasResourceProperties('AWS::AppConfig::Deployment', {
      DeploymentStrategyId: 'AppConfig.Canary10Percent20Minutes',
    });
  });

  test('grants the reader a session on this profile only, in this environment', () => {
    const profile = stack.getLogicalId(flags.configuration.node.findChild('ConfigurationProfile') as never);
    const application = stack.getLogicalId(flags.application.node.defaultChild as never);
    const environment = stack.getLogicalId(flags.environment.node.defaultChild as never);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ReaderServiceRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':appconfig:eu-west-1:123456789012:application/',
                  { Ref: application },
                  '/environment/',
                  { Ref: environment },
                  '/configuration/',
                  { Ref: profile },
                ],
              ],
            },
          },
        ],
      },
    });
  });

  test("writes where to read the flags, how long to trust them and the defaults into the reader's environment", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: {
          FLAGS_APPLICATION_ID: { Ref: Match.stringLikeRegexp('^FlagsApplication') },
          FLAGS_ENVIRONMENT_ID: { Ref: Match.stringLikeRegexp('^FlagsEnvironment') },
          FLAGS_PROFILE_ID: { Ref: Match.stringLikeRegexp('^FlagsConfigurationProfile') },
          FLAGS_DEFAULTS: JSON.stringify(flagSet().defaults),
          FLAGS_MAX_AGE_SECONDS: '45',
          FLAGS_TIMEOUT_MS: '150',
        },
      },
    });
  });

  test('keeps deletion protection and the versions unless the removal policy is DESTROY', () => {
    template.hasResourceProperties('AWS::AppConfig::Environment', {
      DeletionProtectionCheck: 'ACCOUNT_DEFAULT',
    });
    template.hasResource('AWS::AppConfig::HostedConfigurationVersion', { DeletionPolicy: 'Retain' });
    const sandbox = build({ removalPolicy: RemovalPolicy.DESTROY }).template;
    sandbox.hasResourceProperties('AWS::AppConfig::Environment', { DeletionProtectionCheck: 'BYPASS' });
    sandbox.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      DeletionProtectionCheck: 'BYPASS',
    });
    sandbox.hasResource('AWS::AppConfig::HostedConfigurationVersion', { DeletionPolicy: 'Delete' });
  });
});

describe('FeatureFlags validation', () => {
  test.each([
    [
      'a default out of range',
      { cutoff: { enabled: true, value: 3 } },
      /flags: the default document's values\.cutoff\.value must be at most 1/,
    ],
    [
      'weights summing to 0',
      { abWeights: { enabled: true, champion: 0, challenger: 0 } },
      /values\.abWeights must give at least one variant a weight above 0/,
    ],
    [
      'a weight for an unknown variant',
      { abWeights: { enabled: true, champion: 1, challenger: 1, shadow: 1 } },
      /values\.abWeights must not hold "shadow"/,
    ],
  ])('fails the synth for %s, naming the field', (_, values, message) => {
    expect(() => build({ flags: flagSet(values) })).toThrow(message);
  });

  test('names every bad setting at once', () => {
    expect(() =>
      build({
        maxAge: Duration.seconds(5),
        readTimeoutMs: 0,
        variantNames: ['Champion_1'],
        validatorHandler: '../x',
      }),
    ).toThrow(
      /variantNames: "Champion_1"[\s\S]*maxAge \(seconds\): must be a number in \[15, 86400\][\s\S]*readTimeoutMs[\s\S]*validatorHandler/,
    );
  });
});
