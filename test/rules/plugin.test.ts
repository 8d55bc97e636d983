import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { BlueprintRulesPlugin } from '../../lib/platform/rules';

/** A two-stack app: an endpoint config in one stack, the alarm on its endpoint in another. */
function app(
  variants: number,
  plugin = new BlueprintRulesPlugin(),
  wiring: 'props' | 'validations' = 'validations',
): App {
  const result = new App(wiring === 'props' ? { policyValidationBeta1: [plugin] } : {});
  if (wiring === 'validations') Validations.of(result).addPlugins(plugin);
  const ml = new Stack(result, 'Ml', { stackName: 'fixture-ml' });
  new CfnResource(ml, 'Config', {
    type: 'AWS::SageMaker::EndpointConfig',
    properties: {
      ProductionVariants: Array.from({ length: variants }, (_, i) => ({
        VariantName: `v${i}`,
        ModelName: 'model',
        ServerlessConfig: { MaxConcurrency: 1, MemorySizeInMB: 1024 },
      })),
    },
  });
  const endpoint = new CfnResource(ml, 'Endpoint', {
    type: 'AWS::SageMaker::Endpoint',
    properties: { EndpointConfigName: 'config' },
  });
  const ops = new Stack(result, 'Ops', { stackName: 'fixture-ops' });
  new CfnResource(ops, 'Alarm', {
    type: 'AWS::CloudWatch::Alarm',
    properties: {
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Dimensions: [{ Name: 'EndpointName', Value: endpoint.getAtt('EndpointName') }],
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      Threshold: 0,
    },
  });
  return result;
}

describe('BlueprintRulesPlugin', () => {
  test('a compliant app synthesizes; the alarm follows the cross-stack reference to the endpoint', () => {
    expect(() => app(1).synth()).not.toThrow();
  });

  test.each(['props', 'validations'] as const)(
    'wired through %s, a violation fails synth, naming the rule, the resource and what is wrong',
    (wiring) => {
      expect(() => app(2, new BlueprintRulesPlugin(), wiring).synth()).toThrow(
        /serverless-inference-exclusions\] EndpointConfig Config has 2 production variants[\s\S]*Ml\/Config/,
      );
    },
  );

  test('the report lists each violating resource with its template', () => {
    const plugin = new BlueprintRulesPlugin();
    const validate = jest.spyOn(plugin, 'validate');
    expect(() => app(2, plugin).synth()).toThrow();
    const report = validate.mock.results[0].value;
    expect(report.success).toBe(false);
    expect(report.violations).toEqual([
      expect.objectContaining({
        ruleName: 'serverless-inference-exclusions',
        fix: expect.stringMatching(/^https:\/\/docs\.aws\.amazon\.com\//),
        violatingResources: [
          expect.objectContaining({
            resourceLogicalId: 'Config',
            templatePath: expect.stringMatching(/Ml\.template\.json$/),
            locations: ['Properties/ProductionVariants'],
          }),
        ],
      }),
    ]);
  });
});
