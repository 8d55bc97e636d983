import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { gateEnvironment, type GatePolicy } from '../../../../lambda/platform/evaluation-gate/policy';
import {
  EvaluationGate,
  type EvaluationGateProps,
} from '../../../../lib/platform/constructs/ml/evaluation-gate';

const POLICY: GatePolicy = {
  metric: 'ndcg_at_10',
  direction: 'higher-is-better',
  range: [0, 1],
  baselineMetric: 'popularity_ndcg_at_10',
  minImprovementOverChampion: 0.005,
  minImprovementOverBaseline: 0.01,
};

function gateIn(props: Partial<EvaluationGateProps> = {}) {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Pipeline');
  const key = new kms.Key(stack, 'Key');
  const artifacts = new s3.Bucket(stack, 'Artifacts', { encryptionKey: key });
  const gate = new EvaluationGate(stack, 'EvaluationGate', {
    policy: POLICY,
    metricNames: ['ndcg_at_10', 'popularity_ndcg_at_10', 'loss'],
    artifacts,
    ...props,
  });
  return { stack, key, gate, template: Template.fromStack(stack) };
}

describe('EvaluationGate', () => {
  test('carries its policy in the environment the gate reads it from', () => {
    const { template } = gateIn();
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fn.Properties.Environment.Variables).toMatchObject({
      ...gateEnvironment(POLICY),
      POWERTOOLS_SERVICE_NAME: 'evaluation-gate',
    });
  });

  test('reads the models/ and champion/ prefixes of the artefacts, and decrypts with their key', () => {
    const { stack, key, template } = gateIn();
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policy.Properties.PolicyDocument.Statement as Array<{
      Action: string[];
      Resource: unknown;
    }>;
    const objects = statements
      .flatMap((s) => [s.Resource].flat())
      .map((r) => JSON.stringify(r))
      .filter((r) => r.includes('/'));
    expect(objects.map((r) => r.match(/"\/([^"]*)"\]\]\}$/)?.[1]).sort()).toEqual(['champion/*', 'models/*']);
    const decrypt = statements.find((s) => [s.Action].flat().includes('kms:Decrypt'))!;
    expect(decrypt.Resource).toEqual(stack.resolve(key.keyArn));
  });

  test('refuses a policy it cannot run with and metrics the runs do not report, naming every field', () => {
    expect(() =>
      gateIn({
        policy: { ...POLICY, direction: 'sideways' as never, baselineMetric: 'popularity' },
        metricNames: ['ndcg_at_10'],
      }),
    ).toThrow(
      /Invalid EvaluationGate EvaluationGate:\n {2}- policy\.direction: one of [^\n]*\n {2}- metricNames: must include popularity, which the gate judges$/,
    );
  });
});
