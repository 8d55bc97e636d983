import {
  CloudFormationClient,
  ListStackResourcesCommand,
  ListStacksCommand,
  type StackResourceSummary,
  type StackSummary,
} from '@aws-sdk/client-cloudformation';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelPackageGroupsCommand,
  ListModelsCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import {
  arnMatches,
  checkLeftovers,
  findLeftovers,
  parseLeftoverArgs,
  stackPrefix,
  TRAINING_LOG_GROUP,
  type LeftoverClients,
} from '../../../../scripts/check-leftovers';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';

const cfnMock = apiCheckedMockClient(CloudFormationClient);
const taggingMock = apiCheckedMockClient(ResourceGroupsTaggingAPIClient);
const sageMakerMock = apiCheckedMockClient(SageMakerClient);
const logsMock = apiCheckedMockClient(CloudWatchLogsClient);
const region = 'us-east-1';
const clients: LeftoverClients = {
  cloudFormation: new CloudFormationClient({ region }),
  tagging: new ResourceGroupsTaggingAPIClient({ region }),
  sageMaker: new SageMakerClient({ region }),
  logs: new CloudWatchLogsClient({ region }),
};

const ACCOUNT = '123456789012';
const SINCE = new Date('2026-03-10T10:00:00Z');
const AFTER = new Date('2026-03-10T11:30:00Z');
const OPTIONS = { design: 'artist-recommender', profile: 'sandbox', since: SINCE, callTimeoutMs: 2000 };
const stackId = (name: string) =>
  `arn:aws:cloudformation:${region}:${ACCOUNT}:stack/${name}/0b4f5e60-0000-11ef-0000-0a1b2c3d4e5f`;
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const FUNCTION = 'ArtistRecommender-sandbox-d-EventsFunctionA1B2-Zx9YwVu8';
const ENDPOINT = 'artistrecommendersandboxml-endpoint-d2f34502-0b4f5e60';
const API_ID = 'a1b2c3d4e5';

afterEach(() => {
  for (const mock of [cfnMock, taggingMock, sageMakerMock, logsMock]) mock.reset();
});

const deleted = (name: string, deletionTime = AFTER): StackSummary => ({
  StackName: name,
  StackId: stackId(name),
  StackStatus: 'DELETE_COMPLETE',
  CreationTime: new Date('2026-03-10T09:00:00Z'),
  DeletionTime: deletionTime,
});

const record = (
  type: string,
  logicalId: string,
  physicalId: string,
  status = 'DELETE_COMPLETE',
): StackResourceSummary => ({
  ResourceType: type,
  LogicalResourceId: logicalId,
  PhysicalResourceId: physicalId,
  ResourceStatus: status as StackResourceSummary['ResourceStatus'],
  LastUpdatedTimestamp: AFTER,
});

interface Account {
  stacks: StackSummary[];
  resources: Record<string, StackResourceSummary[]>;
  tagged: string[];
  models: string[];
  endpointConfigs: string[];
  endpoints: string[];
  packageGroups: string[];
  runningTrainingJobs: string[];
  /** Log groups by name. */
  logGroups: string[];
  trainingStreams?: string[];
}

/**
 * GIVEN an account after a clean destroy: the design's stacks are DELETE_COMPLETE with all their
 * resources; the tagging API still lists the KMS key (pending deletion) and a deleted bucket; and
 * look-alikes that are not the design's: another profile's and another design's stacks and log
 * groups, a stack deleted before the run, SageMaker names sharing a prefix.
 */
function cleanAccount(): Account {
  return {
    stacks: [
      deleted('ArtistRecommender-sandbox-data'),
      deleted('ArtistRecommender-sandbox-ml'),
      deleted('ArtistRecommender-sandbox-serving'),
      deleted('ArtistRecommender-sandbox-etl', new Date('2026-03-01T00:00:00Z')),
      {
        ...deleted('ArtistRecommender-production-data'),
        StackStatus: 'CREATE_COMPLETE',
        DeletionTime: undefined,
      },
      {
        ...deleted('AdClickPrediction-sandbox-data'),
        StackStatus: 'CREATE_COMPLETE',
        DeletionTime: undefined,
      },
    ],
    resources: {
      'ArtistRecommender-sandbox-data': [
        record('AWS::KMS::Key', 'Key', KEY_ID),
        record('AWS::S3::Bucket', 'RawEventsBucket', 'artistrecommender-sandbox-rawevents-1x2y3z'),
        record('AWS::Lambda::Function', 'EventsFunction', FUNCTION),
      ],
      'ArtistRecommender-sandbox-ml': [
        record(
          'AWS::SageMaker::Endpoint',
          'Endpoint',
          `arn:aws:sagemaker:${region}:${ACCOUNT}:endpoint/${ENDPOINT}`,
        ),
        record('AWS::Logs::LogGroup', 'EndpointLogs', `/aws/sagemaker/Endpoints/${ENDPOINT}`),
      ],
      'ArtistRecommender-sandbox-serving': [record('AWS::ApiGateway::RestApi', 'Api', API_ID)],
    },
    tagged: [
      `arn:aws:kms:${region}:${ACCOUNT}:key/${KEY_ID}`,
      'arn:aws:s3:::artistrecommender-sandbox-rawevents-1x2y3z',
    ],
    models: ['artist-recommender2-0b4f', 'ad-click-prediction-0b4f'],
    endpointConfigs: [],
    endpoints: [],
    packageGroups: ['artist-recommenders-models-ffff'],
    runningTrainingJobs: [],
    logGroups: [
      '/aws/lambda/ArtistRecommender-production-d-Fn-1',
      '/aws/lambda/AdClickPrediction-sandbox-d-Fn-1',
    ],
  };
}

function given(account: Account): void {
  cfnMock.on(ListStacksCommand).resolves({ StackSummaries: account.stacks });
  cfnMock.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
  for (const [name, resources] of Object.entries(account.resources)) {
    cfnMock
      .on(ListStackResourcesCommand, { StackName: stackId(name) })
      .resolves({ StackResourceSummaries: resources });
  }
  // Two pages, to check pagination.
  taggingMock
    .on(GetResourcesCommand, { PaginationToken: undefined })
    .resolves({
      ResourceTagMappingList: account.tagged.slice(0, 1).map((ResourceARN) => ({ ResourceARN })),
      PaginationToken: 'p2',
    })
    .on(GetResourcesCommand, { PaginationToken: 'p2' })
    .resolves({
      ResourceTagMappingList: account.tagged.slice(1).map((ResourceARN) => ({ ResourceARN })),
      PaginationToken: '',
    });
  const created = new Date('2026-03-10T10:30:00Z');
  sageMakerMock
    .on(ListModelsCommand)
    .resolves({
      Models: account.models.map((ModelName) => ({
        ModelName,
        ModelArn: `arn:${ModelName}`,
        CreationTime: created,
      })),
    })
    .on(ListEndpointConfigsCommand)
    .resolves({
      EndpointConfigs: account.endpointConfigs.map((EndpointConfigName) => ({
        EndpointConfigName,
        EndpointConfigArn: `arn:${EndpointConfigName}`,
        CreationTime: created,
      })),
    })
    .on(ListEndpointsCommand)
    .resolves({
      Endpoints: account.endpoints.map((EndpointName) => ({
        EndpointName,
        EndpointArn: `arn:${EndpointName}`,
        CreationTime: created,
        LastModifiedTime: created,
        EndpointStatus: 'InService',
      })),
    })
    .on(ListModelPackageGroupsCommand)
    .resolves({
      ModelPackageGroupSummaryList: account.packageGroups.map((ModelPackageGroupName) => ({
        ModelPackageGroupName,
        ModelPackageGroupArn: `arn:${ModelPackageGroupName}`,
        CreationTime: created,
        ModelPackageGroupStatus: 'Completed',
      })),
    });
  sageMakerMock.on(ListTrainingJobsCommand, { StatusEquals: 'InProgress' }).resolves({
    TrainingJobSummaries: account.runningTrainingJobs.map((TrainingJobName) => ({
      TrainingJobName,
      TrainingJobArn: `arn:${TrainingJobName}`,
      CreationTime: created,
      TrainingJobStatus: 'InProgress',
    })),
  });
  // The service's filters, applied to the account's log groups.
  logsMock
    .on(DescribeLogGroupsCommand)
    .callsFake((input: { logGroupNamePrefix?: string; logGroupNamePattern?: string }) => ({
      logGroups: account.logGroups
        .filter((name) =>
          input.logGroupNamePrefix !== undefined
            ? name.startsWith(input.logGroupNamePrefix)
            : name.includes(input.logGroupNamePattern!),
        )
        .map((logGroupName) => ({ logGroupName })),
    }));
  if (account.trainingStreams) {
    logsMock
      .on(DescribeLogStreamsCommand, { logGroupName: TRAINING_LOG_GROUP })
      .resolves({ logStreams: account.trainingStreams.map((logStreamName) => ({ logStreamName })) });
  } else {
    logsMock
      .on(DescribeLogStreamsCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }),
      );
  }
}

describe('findLeftovers', () => {
  test('a clean account passes; deleted resources the tagging API still lists are reported apart', async () => {
    given(cleanAccount());
    const report = await findLeftovers(clients, OPTIONS);
    expect(report.leftovers).toEqual([]);
    expect(report.stillIndexed.sort()).toEqual(cleanAccount().tagged.sort());
    expect(report.stacks).toEqual([
      'ArtistRecommender-sandbox-data (DELETE_COMPLETE)',
      'ArtistRecommender-sandbox-ml (DELETE_COMPLETE)',
      'ArtistRecommender-sandbox-serving (DELETE_COMPLETE)',
    ]);
  });

  const leftovers: [string, (account: Account) => void, { kind: string; name: string }][] = [
    [
      'a stack that failed to delete',
      (a) =>
        a.stacks.push({
          ...deleted('ArtistRecommender-sandbox-pipeline'),
          StackStatus: 'DELETE_FAILED',
          DeletionTime: undefined,
        }),
      { kind: 'stack', name: 'ArtistRecommender-sandbox-pipeline' },
    ],
    [
      'a tagged resource CloudFormation did not delete',
      (a) =>
        a.tagged.push(
          `arn:aws:sagemaker:${region}:${ACCOUNT}:model-package-group/artist-recommender-models-0b4f5e60`,
        ),
      {
        kind: 'tagged resource',
        name: `arn:aws:sagemaker:${region}:${ACCOUNT}:model-package-group/artist-recommender-models-0b4f5e60`,
      },
    ],
    [
      'a resource retained when its stack was deleted',
      (a) =>
        a.resources['ArtistRecommender-sandbox-data'].push(
          record('AWS::S3::Bucket', 'Artifacts', 'artifacts-bucket-1', 'DELETE_SKIPPED'),
        ),
      { kind: 'AWS::S3::Bucket', name: 'artifacts-bucket-1' },
    ],
    [
      'a model a training run created',
      (a) => a.models.push('artist-recommender-5f0c1d2e-aaaa-bbbb-cccc-111122223333'),
      { kind: 'SageMaker model', name: 'artist-recommender-5f0c1d2e-aaaa-bbbb-cccc-111122223333' },
    ],
    [
      'an endpoint config a training run created',
      (a) => a.endpointConfigs.push('artist-recommender-5f0c1d2e'),
      { kind: 'SageMaker endpoint config', name: 'artist-recommender-5f0c1d2e' },
    ],
    [
      'an endpoint named after the design',
      (a) => a.endpoints.push('artist-recommender-canary'),
      { kind: 'SageMaker endpoint', name: 'artist-recommender-canary' },
    ],
    [
      'a model package group',
      (a) => a.packageGroups.push('artist-recommender-models-0b4f5e60'),
      { kind: 'SageMaker model package group', name: 'artist-recommender-models-0b4f5e60' },
    ],
    [
      'a training job still running',
      (a) => a.runningTrainingJobs.push('artist-recommender-5f0c1d2e'),
      { kind: 'SageMaker training job in progress', name: 'artist-recommender-5f0c1d2e' },
    ],
    [
      "a deleted function's log group, which Lambda created",
      (a) => a.logGroups.push(`/aws/lambda/${FUNCTION}`),
      { kind: 'log group', name: `/aws/lambda/${FUNCTION}` },
    ],
    [
      "a deleted endpoint's log group",
      (a) => a.logGroups.push(`/aws/sagemaker/Endpoints/${ENDPOINT}`),
      { kind: 'log group', name: `/aws/sagemaker/Endpoints/${ENDPOINT}` },
    ],
    [
      "a deleted API's execution log group",
      (a) => a.logGroups.push(`API-Gateway-Execution-Logs_${API_ID}/live`),
      { kind: 'log group', name: `API-Gateway-Execution-Logs_${API_ID}/live` },
    ],
    [
      "a log group named after one of the design's stacks",
      (a) => a.logGroups.push('ArtistRecommender-sandbox-serving-ApiAccessLogs50B185DB-Qw3rTy'),
      { kind: 'log group', name: 'ArtistRecommender-sandbox-serving-ApiAccessLogs50B185DB-Qw3rTy' },
    ],
    [
      "a training job's log stream",
      (a) => (a.trainingStreams = ['artist-recommender-5f0c1d2e/algo-1-1700000000']),
      { kind: 'log stream', name: `${TRAINING_LOG_GROUP}/artist-recommender-5f0c1d2e/algo-1-1700000000` },
    ],
  ];

  test.each(leftovers)('fails on %s, naming it', async (_, add, expected) => {
    const account = cleanAccount();
    add(account);
    given(account);
    const report = await findLeftovers(clients, OPTIONS);
    expect(report.leftovers).toEqual([expect.objectContaining(expected)]);
  });

  test("a live stack's resources are reported with the stack, not one by one", async () => {
    const account = cleanAccount();
    account.stacks.push({
      ...deleted('ArtistRecommender-sandbox-network'),
      StackStatus: 'CREATE_COMPLETE',
      DeletionTime: undefined,
    });
    account.resources['ArtistRecommender-sandbox-network'] = [
      record('AWS::Lambda::Function', 'Fn', 'net-fn', 'CREATE_COMPLETE'),
    ];
    account.tagged.push(`arn:aws:lambda:${region}:${ACCOUNT}:function:net-fn`);
    account.logGroups.push('/aws/lambda/net-fn');
    given(account);
    const report = await findLeftovers(clients, OPTIONS);
    expect(report.leftovers).toEqual([
      { kind: 'stack', name: 'ArtistRecommender-sandbox-network', why: 'status CREATE_COMPLETE' },
    ]);
  });

  test('a call that never answers fails at its deadline, naming the call', async () => {
    cfnMock.on(ListStacksCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();
    await expect(findLeftovers(clients, { ...OPTIONS, callTimeoutMs: 50 })).rejects.toThrow(
      'ListStacks did not answer within 50 ms',
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('asks the tagging API for the design and the profile', async () => {
    given(cleanAccount());
    await findLeftovers(clients, OPTIONS);
    expect(taggingMock.commandCalls(GetResourcesCommand)[0].args[0].input.TagFilters).toEqual([
      { Key: 'blueprint:design', Values: ['artist-recommender'] },
      { Key: 'blueprint:profile', Values: ['sandbox'] },
    ]);
  });
});

describe('arnMatches', () => {
  test.each([
    ['arn:aws:kms:us-east-1:1:key/abc', 'AWS::KMS::Key', 'abc', true],
    ['arn:aws:s3:::bucket-1', 'AWS::S3::Bucket', 'bucket-1', true],
    [
      'arn:aws:firehose:us-east-1:1:deliverystream/stream-1',
      'AWS::KinesisFirehose::DeliveryStream',
      'stream-1',
      true,
    ],
    [
      'arn:aws:states:us-east-1:1:stateMachine:sm',
      'AWS::StepFunctions::StateMachine',
      'arn:aws:states:us-east-1:1:stateMachine:sm',
      true,
    ],
    ['arn:aws:sagemaker:us-east-1:1:endpoint/myendpoint', 'AWS::SageMaker::Endpoint', 'MyEndpoint', true],
    ['arn:aws:logs:us-east-1:1:log-group:/aws/x/y', 'AWS::Logs::LogGroup', '/aws/x/y', true],
    ['arn:aws:s3:::bucket-10', 'AWS::S3::Bucket', 'bucket-1', false],
    ['arn:aws:sns:us-east-1:1:key/abc', 'AWS::KMS::Key', 'abc', false],
    ['arn:aws:kms:us-east-1:1:key/abc', 'AWS::KMS::Key', '', false],
  ])('%s is %s %s: %s', (arn, type, physicalId, expected) => {
    expect(arnMatches(arn, { type, physicalId })).toBe(expected);
  });
});

describe('the command line', () => {
  test('exits 0 on a clean account, 1 when something is left, 2 on bad arguments', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      given(cleanAccount());
      expect(await checkLeftovers(['--since', SINCE.toISOString()], clients)).toBe(0);
      expect(log.mock.calls.flat().join('\n')).toMatch(/nothing left/);

      const account = cleanAccount();
      account.models.push('artist-recommender-5f0c');
      cfnMock.reset();
      sageMakerMock.reset();
      taggingMock.reset();
      logsMock.reset();
      given(account);
      expect(await checkLeftovers(['--since', SINCE.toISOString()], clients)).toBe(1);
      expect(log.mock.calls.flat().join('\n')).toMatch(/SageMaker model: artist-recommender-5f0c/);

      expect(await checkLeftovers(['--profile', 'prod', '--since', 'yesterday'], clients)).toBe(2);
      expect(error.mock.calls.flat().join('\n')).toMatch(
        /--profile must be one of .*--since must be an ISO-8601 time/,
      );
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });

  test('exits 3 when the check cannot finish, saying why', async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      cfnMock.on(ListStacksCommand).rejects(new Error('Could not load credentials from any providers'));
      expect(await checkLeftovers([], clients)).toBe(3);
      expect(error.mock.calls.flat().join('\n')).toMatch(
        /could not finish the check: Could not load credentials/,
      );
    } finally {
      error.mockRestore();
    }
  });

  test('--since-hours counts back from now', () => {
    const now = Date.parse('2026-03-10T12:00:00Z');
    expect(parseLeftoverArgs(['--since-hours', '2'], now).since.toISOString()).toBe(
      '2026-03-10T10:00:00.000Z',
    );
    expect(stackPrefix('artist-recommender', 'sandbox')).toBe('ArtistRecommender-sandbox-');
  });
});
