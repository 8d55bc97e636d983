import { captureOutput, lambdaContext, logLines, metricsLines } from '../support/invocation';
import {
  CloudWatchLogsClient,
  DeleteLogStreamCommand,
  DescribeLogStreamsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DeleteModelPackageCommand,
  ListEndpointConfigsCommand,
  ListModelPackagesCommand,
  ListModelsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { cleanup, TRAINING_JOB_LOG_GROUP } from '../../../../lambda/platform/sagemaker-cleanup/cleanup';
import { handler, scopeFromProperties } from '../../../../lambda/platform/sagemaker-cleanup/handler';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';

const sagemakerMock = apiCheckedMockClient(SageMakerClient);
const logsMock = apiCheckedMockClient(CloudWatchLogsClient);
const clients = {
  sagemaker: new SageMakerClient({ region: 'us-east-1' }),
  logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
};
const PREFIX = 'feed-ranking';
const GROUP = 'feed-ranking-models-1a2b3c4d';
const created = new Date('2026-11-30T00:00:00Z');
const packageArn = (n: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/${GROUP}/${n}`;

afterEach(() => {
  sagemakerMock.reset();
  logsMock.reset();
});

/** GIVEN listings of two pages holding this design's, another design's and a look-alike's names. */
function givenAccount() {
  sagemakerMock
    .on(ListModelPackagesCommand, { NextToken: undefined })
    .resolves({
      ModelPackageSummaryList: [1, 2].map((n) => ({
        ModelPackageArn: packageArn(n),
        ModelPackageStatus: 'Completed',
        CreationTime: created,
      })),
      NextToken: 'page-2',
    })
    .on(ListModelPackagesCommand, { NextToken: 'page-2' })
    .resolves({
      ModelPackageSummaryList: [
        { ModelPackageArn: packageArn(3), ModelPackageStatus: 'Completed', CreationTime: created },
      ],
    });
  const names = [`${PREFIX}-0b4f`, `${PREFIX}-9c1e`, 'feed-ranking2-77aa', 'fraud-detection-0b4f'];
  sagemakerMock.on(ListModelsCommand).resolves({
    Models: names.map((ModelName) => ({
      ModelName,
      ModelArn: `arn:aws:sagemaker:us-east-1:123456789012:model/${ModelName}`,
      CreationTime: created,
    })),
  });
  sagemakerMock.on(ListEndpointConfigsCommand).resolves({
    EndpointConfigs: names.map((EndpointConfigName) => ({
      EndpointConfigName,
      EndpointConfigArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${EndpointConfigName}`,
      CreationTime: created,
    })),
  });
  logsMock.on(DescribeLogStreamsCommand).resolves({
    logStreams: [
      { logStreamName: `${PREFIX}-0b4f/algo-1-1732900000` },
      { logStreamName: `${PREFIX}-9c1e/algo-1-1732900001` },
    ],
  });
  sagemakerMock.on(DeleteModelPackageCommand).resolves({});
  sagemakerMock.on(DeleteModelCommand).resolves({});
  sagemakerMock.on(DeleteEndpointConfigCommand).resolves({});
  logsMock.on(DeleteLogStreamCommand).resolves({});
}

describe('cleanup of what training runs created outside CloudFormation', () => {
  test('deletes every package version of the group, across pages, so the group can be deleted', async () => {
    givenAccount();
    const report = await cleanup(
      {
        namePrefix: PREFIX,
        modelPackageGroupName: GROUP,
        modelsAndEndpointConfigs: false,
        trainingLogStreams: false,
      },
      clients,
    );
    expect(report.modelPackages).toBe(3);
    expect(
      sagemakerMock.commandCalls(DeleteModelPackageCommand).map((c) => c.args[0].input.ModelPackageName),
    ).toEqual([1, 2, 3].map(packageArn));
    expect(sagemakerMock.commandCalls(DeleteModelCommand)).toHaveLength(0);
  });

  test("deletes this design's models and endpoint configs only, never a look-alike or another design's", async () => {
    givenAccount();
    const report = await cleanup(
      { namePrefix: PREFIX, modelsAndEndpointConfigs: true, trainingLogStreams: false },
      clients,
    );
    const deleted = sagemakerMock.commandCalls(DeleteModelCommand).map((c) => c.args[0].input.ModelName);
    expect(deleted).toEqual([`${PREFIX}-0b4f`, `${PREFIX}-9c1e`]);
    expect(report).toMatchObject({ models: 2, endpointConfigs: 2, modelPackages: 0 });
    // NameContains only narrows the listing; the prefix decides.
    expect(sagemakerMock.commandCalls(ListModelsCommand)[0].args[0].input.NameContains).toBe(PREFIX);
  });

  test('deletes the training log streams of this design from the account-wide group', async () => {
    givenAccount();
    const report = await cleanup(
      { namePrefix: PREFIX, modelsAndEndpointConfigs: false, trainingLogStreams: true },
      clients,
    );
    expect(report.logStreams).toBe(2);
    const calls = logsMock.commandCalls(DeleteLogStreamCommand).map((c) => c.args[0].input);
    expect(calls.every((input) => input.logGroupName === TRAINING_JOB_LOG_GROUP)).toBe(true);
  });

  test('something already gone counts as deleted; an account without training logs is fine', async () => {
    givenAccount();
    sagemakerMock.on(DeleteModelCommand).rejects(
      Object.assign(new Error('Could not find model "feed-ranking-0b4f".'), {
        name: 'ValidationException',
      }),
    );
    logsMock
      .on(DescribeLogStreamsCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }),
      );
    await expect(
      cleanup({ namePrefix: PREFIX, modelsAndEndpointConfigs: true, trainingLogStreams: true }, clients),
    ).resolves.toMatchObject({ models: 2, logStreams: 0 });
  });

  test('any other failure fails the delete, so CloudFormation reports it instead of leaving things behind', async () => {
    givenAccount();
    sagemakerMock
      .on(DeleteEndpointConfigCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(
      cleanup({ namePrefix: PREFIX, modelsAndEndpointConfigs: true, trainingLogStreams: false }, clients),
    ).rejects.toThrow(/not authorized/);
  });
});

describe('the custom resource handler', () => {
  const event = (RequestType: 'Create' | 'Update' | 'Delete', props: Record<string, string>) =>
    ({
      RequestType,
      ResourceProperties: {
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
        ...props,
      },
      PhysicalResourceId: `cleanup-${PREFIX}`,
    }) as never;

  test('does nothing on create and update', async () => {
    givenAccount();
    await expect(
      handler(
        event('Create', { NamePrefix: PREFIX, ModelsAndEndpointConfigs: 'true' }),
        lambdaContext('c-1'),
      ),
    ).resolves.toEqual({
      PhysicalResourceId: `cleanup-${PREFIX}`,
    });
    await handler(
      event('Update', { NamePrefix: PREFIX, ModelsAndEndpointConfigs: 'true' }),
      lambdaContext('c-2'),
    );
    expect(sagemakerMock.calls()).toHaveLength(0);
  });

  test('on delete, reports what it removed in the log of that request and in its metrics', async () => {
    givenAccount();
    const stdout = captureOutput();
    try {
      const result = await handler(
        event('Delete', { NamePrefix: PREFIX, ModelsAndEndpointConfigs: 'true' }),
        lambdaContext('delete-1'),
      );
      expect(result).toMatchObject({ PhysicalResourceId: `cleanup-${PREFIX}`, Data: { models: 2 } });
      const line = logLines(stdout).find((l) => l.message === 'cleaned up run-time resources');
      expect(line).toMatchObject({ function_request_id: 'delete-1', report: { models: 2 } });
      expect(metricsLines(stdout).find((l) => l.names.includes('ModelsDeleted'))?.values).toMatchObject({
        ModelsDeleted: 2,
        ModelPackagesDeleted: 0,
      });
    } finally {
      stdout.restore();
    }
  });

  test('names the bad property instead of deleting with a prefix that could match anything', () => {
    expect(() => scopeFromProperties({ NamePrefix: '' })).toThrow(/NamePrefix/);
    expect(() => scopeFromProperties({ NamePrefix: 'a*' })).toThrow(/NamePrefix/);
    expect(scopeFromProperties({ NamePrefix: PREFIX, TrainingLogStreams: 'true' })).toEqual({
      namePrefix: PREFIX,
      modelPackageGroupName: undefined,
      modelsAndEndpointConfigs: false,
      trainingLogStreams: true,
    });
  });
});
