/**
 * The state machine harness itself, on small hand-written definitions: what it resolves, which API
 * operation a resource calls, how a Distributed Map Run applies its failure threshold, and that a
 * run that never ends is stopped and reported.
 */
import { CfnResolver } from '../../support/asl/cfn';
import { integrationOf } from '../../support/asl/integrations';
import { lowerDefinition } from '../../support/asl/lowering';
import {
  lambdaFunctionError,
  runStateMachine,
  type AslDefinition,
  type DeployedStateMachine,
  type Responder,
} from '../../support/asl';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Work-Function-1A2B3C4D5E6F';

function machine(definition: AslDefinition): DeployedStateMachine {
  return { arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Harness', name: 'Harness', definition };
}

describe('CfnResolver', () => {
  const data = {
    stackName: 'App-data',
    template: {
      Resources: { Bucket: { Type: 'AWS::S3::Bucket' }, Key: { Type: 'AWS::KMS::Key' } },
      Outputs: {
        BucketOut: { Value: { Ref: 'Bucket' } },
        KeyOut: { Value: { 'Fn::GetAtt': ['Key', 'Arn'] } },
      },
    },
  };
  const app = {
    stackName: 'App-pipeline',
    template: {
      Resources: { Unknown: { Type: 'AWS::Made::Up' } },
      Mappings: { Accounts: { 'us-east-1': { account: '763104351884' } } },
    },
  };
  const resolver = new CfnResolver([data, app]);

  test('follows Fn::GetStackOutput to the other stack and fakes its resources there', () => {
    const value = resolver.resolve(
      {
        'Fn::Join': [
          '',
          [
            's3://',
            {
              'Fn::GetStackOutput': {
                StackName: 'App-data',
                Region: { Ref: 'AWS::Region' },
                OutputName: 'BucketOut',
              },
            },
            '/x',
          ],
        ],
      },
      app,
    );
    expect(value).toBe(`s3://${String(resolver.resolve({ Ref: 'Bucket' }, data))}/x`);
    expect(value).toMatch(/^s3:\/\/app-data-bucket-[0-9a-f]{12}\/x$/);
    expect(
      resolver.resolve({ 'Fn::GetStackOutput': { StackName: 'App-data', OutputName: 'KeyOut' } }, app),
    ).toMatch(/^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/);
  });

  test('resolves pseudo parameters, Fn::Sub, Fn::FindInMap, Fn::Select and Fn::Split', () => {
    expect(
      resolver.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}' }, app),
    ).toBe('arn:aws:x:us-east-1:123456789012');
    expect(resolver.resolve({ 'Fn::FindInMap': ['Accounts', { Ref: 'AWS::Region' }, 'account'] }, app)).toBe(
      '763104351884',
    );
    const stackUuid = resolver.resolve(
      { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
      app,
    );
    expect(stackUuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('refuses a resource type it has no fake for, naming it', () => {
    expect(() => resolver.resolve({ Ref: 'Unknown' }, app)).toThrow(
      /no fake value for AWS::Made::Up \(Unknown\)/,
    );
  });
});

describe('integrationOf', () => {
  test.each([
    [
      'arn:aws:states:::aws-sdk:sagemaker:createModelPackage',
      'sagemaker',
      'CreateModelPackage',
      'CreateModelPackage',
    ],
    ['arn:aws:states:::aws-sdk:s3:putObject', 's3', 'PutObject', 'PutObject'],
    [
      'arn:aws:states:::sagemaker:createTrainingJob.sync',
      'sagemaker',
      'CreateTrainingJob',
      'DescribeTrainingJob',
    ],
    ['arn:aws:states:::sagemaker:createTrainingJob', 'sagemaker', 'CreateTrainingJob', 'CreateTrainingJob'],
    [
      'arn:aws:states:::athena:startQueryExecution.sync',
      'athena',
      'StartQueryExecution',
      'GetQueryExecution',
    ],
    ['arn:aws:states:::athena:startQueryExecution', 'athena', 'StartQueryExecution', 'StartQueryExecution'],
    ['arn:aws:states:::sns:publish', 'sns', 'Publish', 'Publish'],
    ['arn:aws:states:::lambda:invoke', 'lambda', 'Invoke', 'Invoke'],
    ['arn:aws:states:::s3:listObjectsV2', 's3', 'ListObjectsV2', 'ListObjectsV2'],
    [FUNCTION_ARN, 'lambda', 'Invoke', 'Invoke'],
  ])('%s calls %s %s and returns what %s returns', (resource, service, operation, responseOperation) => {
    expect(integrationOf(resource)).toMatchObject({ service, operation, responseOperation });
  });

  test('sns:publish sends a JSON Message as its text; lambda:invoke sends the payload as text and wraps the result', () => {
    expect(
      integrationOf('arn:aws:states:::sns:publish').request({ TopicArn: 't', Message: { a: 1 } }),
    ).toEqual({
      TopicArn: 't',
      Message: '{"a":1}',
    });
    const invoke = integrationOf('arn:aws:states:::lambda:invoke');
    expect(invoke.request({ FunctionName: FUNCTION_ARN, Payload: { a: 1 } })).toEqual({
      FunctionName: FUNCTION_ARN,
      Payload: '{"a":1}',
    });
    expect(invoke.result({ ok: true })).toMatchObject({ Payload: { ok: true }, StatusCode: 200 });
    expect(integrationOf(FUNCTION_ARN).request({ a: 1 })).toEqual({
      FunctionName: FUNCTION_ARN,
      Payload: '{"a":1}',
    });
  });

  test('refuses a resource it does not model', () => {
    expect(() => integrationOf('arn:aws:states:::glue:startJobRun.sync')).toThrow(/does not model/);
    expect(() =>
      integrationOf('arn:aws:states:::aws-sdk:sagemaker:createTrainingJob.waitForTaskToken'),
    ).toThrow(/waitForTaskToken/);
  });
});

describe('athena:startQueryExecution.sync', () => {
  const query = (parameters: Record<string, unknown>): DeployedStateMachine =>
    machine({
      StartAt: 'Query',
      States: {
        Query: {
          Type: 'Task',
          Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
          Parameters: parameters,
          End: true,
        },
      },
    });
  const parameters = {
    QueryString: 'SELECT 1',
    WorkGroup: 'primary',
    ResultConfiguration: { OutputLocation: 's3://results/athena/' },
  };
  const finished: Responder = () => ({
    QueryExecution: {
      QueryExecutionId: 'a-1',
      Status: { State: 'SUCCEEDED' },
      Statistics: { DataScannedInBytes: 1 },
    },
  });

  test('sends the StartQueryExecution request and returns what GetQueryExecution returns', async () => {
    const result = await runStateMachine(query(parameters), { responders: { Query: finished } });
    expect(result.harnessErrors).toEqual([]);
    expect(result.invalidRequests).toEqual([]);
    expect(result.invalidResponses).toEqual([]);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.calls).toMatchObject([
      { state: 'Query', service: 'athena', operation: 'StartQueryExecution', request: parameters },
    ]);
    expect(result.output).toMatchObject({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  });

  test("flags a stub answering StartQueryExecution's output instead of GetQueryExecution's", async () => {
    const result = await runStateMachine(query(parameters), {
      responders: { Query: () => ({ QueryExecutionId: 'a-1' }) },
    });
    expect(result.invalidResponses).toMatchObject([
      { state: 'Query', operation: 'GetQueryExecution', problems: [{ path: 'QueryExecutionId' }] },
    ]);
  });

  test('a request without QueryString fails validation as Athena.ValidationException', async () => {
    const withoutQuery = {
      WorkGroup: parameters.WorkGroup,
      ResultConfiguration: parameters.ResultConfiguration,
    };
    const result = await runStateMachine(query(withoutQuery), { responders: { Query: finished } });
    expect(result.invalidRequests).toMatchObject([
      { state: 'Query', service: 'athena', operation: 'StartQueryExecution' },
    ]);
    expect(JSON.stringify(result.invalidRequests[0].problems)).toContain('QueryString');
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Athena.ValidationException');
  });
});

describe('lowering', () => {
  test('refuses JSONata states other than a Pass with Output, rather than running them wrongly', () => {
    const definition: AslDefinition = {
      StartAt: 'Compute',
      States: {
        Compute: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% 1 %}', Assign: { x: 1 }, End: true },
      },
    };
    expect(() => lowerDefinition(definition)).toThrow(
      /Compute: the harness evaluates JSONata Pass states with Output only/,
    );
  });
});

describe('a Distributed Map Run', () => {
  const definition = (tolerated: Record<string, number>): AslDefinition => ({
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Work',
          States: { Work: { Type: 'Task', Resource: FUNCTION_ARN, End: true } },
        },
        ...tolerated,
        End: true,
      },
    },
  });
  const failing = (bad: number[]): Record<string, Responder> => ({
    Work: (request) => {
      const { value, index } = JSON.parse(request.Payload) as { value: string; index: number };
      if (bad.includes(index)) throw lambdaFunctionError('BadItem', value);
      return { done: value };
    },
  });
  const input = { items: ['a', 'b', 'c', 'd'] };

  test('returns the child outputs in item order when nothing fails', async () => {
    const result = await runStateMachine(machine(definition({})), { input, responders: failing([]) });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual([{ done: 'a' }, { done: 'b' }, { done: 'c' }, { done: 'd' }]);
  });

  test.each([
    [{ ToleratedFailureCount: 1 }, [2], 'SUCCEEDED'],
    [{ ToleratedFailureCount: 1 }, [1, 2], 'FAILED'],
    [{ ToleratedFailurePercentage: 50 }, [1, 2], 'SUCCEEDED'],
    [{ ToleratedFailurePercentage: 25 }, [1, 2], 'FAILED'],
    [{ ToleratedFailurePercentage: 0 }, [3], 'FAILED'],
    [{}, [0], 'FAILED'],
  ])('with %j and items %j failing, the run is %s', async (tolerated, bad, status) => {
    const result = await runStateMachine(machine(definition(tolerated)), { input, responders: failing(bad) });
    expect(result.harnessErrors).toEqual([]);
    expect(result.status).toBe(status);
    if (status === 'FAILED') expect(result.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(
      result.mapRuns[0].children.filter((child) => child.status === 'FAILED').map((child) => child.index),
    ).toEqual(bad);
  });
});

test('a run that never ends is stopped and reported, not left to the state machine timeout', async () => {
  const definition: AslDefinition = {
    StartAt: 'Wait',
    States: {
      Wait: { Type: 'Wait', Seconds: 60, Next: 'Poll' },
      Poll: { Type: 'Task', Resource: FUNCTION_ARN, ResultPath: '$.status', Next: 'Done?' },
      'Done?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.status', StringEquals: 'done', Next: 'Done' }],
        Default: 'Wait',
      },
      Done: { Type: 'Succeed' },
    },
  };
  const result = await runStateMachine(machine(definition), {
    responders: { Poll: () => 'pending' },
    maxCalls: 25,
  });
  expect(result.status).toBe('ABORTED');
  expect(result.harnessErrors).toEqual([
    expect.stringMatching(/more than 25 service calls: the run does not end/),
  ]);
  expect(result.calls).toHaveLength(25);
});
