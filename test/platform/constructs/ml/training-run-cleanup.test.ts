import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CustomResourceHandler } from '../../../../lib/platform/constructs/compute/custom-resource-handler';
import { TrainingRunCleanup } from '../../../../lib/platform/constructs/ml/training-run-cleanup';

/** A stack whose functions are not bundled: the tests read the template, not the code. */
function smallStack(id = 'Ml'): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), id);
}

type Statement = { Action: string | string[]; Resource: unknown };

function handlerStatements(template: Template): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const [id] = Object.keys(policies).filter((name) => name.startsWith('RunCleanupHandler'));
  return policies[id].Properties.PolicyDocument.Statement;
}

describe('TrainingRunCleanup', () => {
  const stack = smallStack();
  const endpoint = new sqs.Queue(stack, 'Endpoint');
  new TrainingRunCleanup(stack, 'RunCleanup', { namePrefix: 'ctr-sbx', deleteFirst: [endpoint] });
  const template = Template.fromStack(stack);

  test('may list on * (no resource type), and delete only what carries its prefix', () => {
    const statements = handlerStatements(template);
    const list = statements.find((s) => [s.Action].flat().includes('sagemaker:ListModels'))!;
    expect(list.Resource).toBe('*');
    expect([list.Action].flat().every((action) => /^(sagemaker:List|xray:)/.test(action))).toBe(true);
    const deletes = statements.find((s) => [s.Action].flat().includes('sagemaker:DeleteModel'))!;
    const resources = JSON.stringify(deletes.Resource);
    for (const suffix of [
      ':model/ctr-sbx-*',
      ':endpoint-config/ctr-sbx-*',
      ':model-package/ctr-sbx-models-*/*',
    ]) {
      expect(resources).toContain(suffix);
    }
    const streams = statements.find((s) => [s.Action].flat().includes('logs:DeleteLogStream'))!;
    expect(JSON.stringify(streams.Resource)).toContain(
      ':log-group:/aws/sagemaker/TrainingJobs:log-stream:ctr-sbx-*',
    );
  });

  test('deletes the models and endpoint configs with its prefix, once the resources given are gone', () => {
    const cleanups = template.findResources('Custom::SageMakerRunCleanup');
    const [[id, cleanup]] = Object.entries(cleanups);
    expect(id).toMatch(/^ModelsCleanup/);
    expect(cleanup.Properties).toMatchObject({
      NamePrefix: 'ctr-sbx',
      ModelsAndEndpointConfigs: 'true',
      TrainingLogStreams: 'false',
    });
    const [queue] = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queue.DependsOn).toEqual([id]);
  });

  test('keeps the logical IDs a stack gets from building the handler and the resource itself', () => {
    // GIVEN the handler and its resource as a stack used to build them
    const reference = smallStack();
    new CustomResourceHandler(reference, 'RunCleanup', {
      handlerFolder: 'platform/sagemaker-cleanup',
      description: 'reference',
      timeout: Duration.minutes(10),
    }).addResource(reference, 'ModelsCleanup', 'SageMakerRunCleanup', {});
    const referenceIds = Object.keys(Template.fromStack(reference).toJSON().Resources).sort();
    // THEN the construct's are the same (the queue is the test's own)
    const ids = Object.keys(template.toJSON().Resources)
      .filter((id) => !id.startsWith('Endpoint'))
      .sort();
    expect(ids).toEqual(referenceIds);
  });

  test('rejects a prefix that SageMaker names could not start with, naming it', () => {
    expect(() => new TrainingRunCleanup(smallStack(), 'RunCleanup', { namePrefix: 'Ctr_Sbx' })).toThrow(
      /Invalid TrainingRunCleanup RunCleanup:\n {2}- namePrefix: lower-case letters, digits and '-'.*got "Ctr_Sbx"/,
    );
  });
});
