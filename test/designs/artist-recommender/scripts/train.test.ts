import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DESIGNS } from '../../../../lib/designs';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import {
  parseTrainArgs,
  pipelineStackName,
  train,
  UsageError,
} from '../../../../scripts/artist-recommender/train';

const cfnMock = apiCheckedMockClient(CloudFormationClient);
const sfnMock = apiCheckedMockClient(SFNClient);
const clients = { cfn: new CloudFormationClient({}), sfn: new SFNClient({}) };
const at = (s: number) => new Date(Date.UTC(2026, 10, 26, 3, 0, s));

beforeEach(() => {
  cfnMock.reset();
  sfnMock.reset();
  cfnMock.on(DescribeStacksCommand, { StackName: 'ArtistRecommender-sandbox-pipeline' }).resolves({
    Stacks: [
      {
        StackName: 'x',
        CreationTime: at(0),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [{ OutputKey: 'StateMachineArn', OutputValue: 'arn:aws:states:eu-west-1:1:stateMachine:m' }],
      },
    ],
  });
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: at(0) });
});

test('starts the deployed pipeline and prints each state once, until the run ends', async () => {
  const first = [
    { id: 1, type: 'ExecutionStarted', timestamp: at(1) },
    { id: 2, type: 'PassStateEntered', timestamp: at(2), stateEnteredEventDetails: { name: 'NameRun' } },
  ] as const;
  const second = [
    ...first,
    { id: 3, type: 'TaskStateEntered', timestamp: at(3), stateEnteredEventDetails: { name: 'Train' } },
    { id: 4, type: 'ExecutionSucceeded', timestamp: at(4) },
  ] as const;
  sfnMock
    .on(GetExecutionHistoryCommand)
    .resolvesOnce({ events: [...first] })
    .resolves({ events: [...second] });
  sfnMock
    .on(DescribeExecutionCommand)
    .resolvesOnce({ status: 'RUNNING' } as never)
    .resolves({ status: 'SUCCEEDED' } as never);

  const lines: string[] = [];
  const status = await train(
    { ...parseTrainArgs([]), pollMs: 1 },
    clients,
    (l) => lines.push(l),
    async () => undefined,
  );

  expect(status).toBe('SUCCEEDED');
  expect(sfnMock.commandCalls(StartExecutionCommand)[0].args[0].input.stateMachineArn).toBe(
    'arn:aws:states:eu-west-1:1:stateMachine:m',
  );
  expect(lines).toEqual([
    'started arn:exec',
    '03:00:02  -> NameRun',
    '03:00:03  -> Train',
    '03:00:04  ok execution succeeded',
  ]);
});

test('reports a failed run with its cause', async () => {
  sfnMock.on(GetExecutionHistoryCommand).resolves({
    events: [
      {
        id: 1,
        type: 'ExecutionFailed',
        timestamp: at(9),
        executionFailedEventDetails: { error: 'DeploymentRolledBack', cause: 'a rollback alarm fired' },
      },
    ],
  });
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED' } as never);
  const lines: string[] = [];
  expect(await train({ ...parseTrainArgs([]), pollMs: 1 }, clients, (l) => lines.push(l))).toBe('FAILED');
  expect(lines).toContain('03:00:09  x  DeploymentRolledBack: a rollback alarm fired');
});

test('a stack without the output is named in the error', async () => {
  cfnMock.on(DescribeStacksCommand).resolves({ Stacks: [] });
  await expect(train(parseTrainArgs(['--no-wait']), clients, () => undefined)).rejects.toThrow(
    /stack ArtistRecommender-sandbox-pipeline has no StateMachineArn output/,
  );
});

test('bad arguments name every bad flag', () => {
  expect(() => parseTrainArgs(['--profile', 'prod', '--design', 'x', '--poll-seconds', '0'])).toThrow(
    new UsageError(
      '--profile must be one of sandbox, production, got "prod"; ' +
        `--design must be one of ${Object.keys(DESIGNS).join(', ')}, got "x"; ` +
        '--poll-seconds must be a number in (0, 3600], got "0"',
    ),
  );
  expect(parseTrainArgs(['--region', 'eu-west-1', '--no-wait', '--poll-seconds', '2.5'])).toEqual({
    profile: 'sandbox',
    design: 'artist-recommender',
    wait: false,
    pollMs: 2500,
    region: 'eu-west-1',
  });
  expect(pipelineStackName('artist-recommender', 'production')).toBe('ArtistRecommender-production-pipeline');
});
