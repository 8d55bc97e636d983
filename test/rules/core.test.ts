import {
  allows,
  iamPattern,
  patternsOverlap,
  requiredPattern,
  roleStatements,
} from '../../lib/platform/rules/core/iam';
import {
  definitionCalls,
  definitionOf,
  parseIntegration,
} from '../../lib/platform/rules/core/state-machines';
import { TemplateSet, UNKNOWN } from '../../lib/platform/rules/core/templates';
import { stack, stateMachine, task } from './fixtures';

describe('template resolution', () => {
  const data = stack(
    'data',
    {
      Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      Named: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'artefacts' } },
      Key: { Type: 'AWS::KMS::Key', Properties: {} },
      Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    },
    { BucketArn: { 'Fn::GetAtt': ['Bucket', 'Arn'] }, Exported: { Ref: 'Named' } },
  );
  (data.template.Outputs as Record<string, { Value: unknown; Export?: { Name: unknown } }>).Exported.Export =
    {
      Name: 'data-bucket',
    };
  const other = stack('other', {});
  const set = new TemplateSet([data, other]);

  test('Ref and GetAtt give names and ARNs, with markers for names CloudFormation generates', () => {
    expect(set.resolve(data, { Ref: 'Bucket' })).toBe('«name!data!Bucket»');
    expect(set.resolve(data, { 'Fn::GetAtt': ['Named', 'Arn'] })).toBe('arn:aws:s3:::artefacts');
    expect(set.resolve(data, { Ref: 'Topic' })).toBe('arn:aws:sns:«Region»:«AccountId»:«name!data!Topic»');
    expect(set.resolve(data, { Ref: 'AWS::StackName' })).toBe('data');
  });

  test('cross-stack outputs and imports resolve in the stack that defines them', () => {
    const viaOutput = {
      'Fn::GetStackOutput': { StackName: 'data', Region: { Ref: 'AWS::Region' }, OutputName: 'BucketArn' },
    };
    expect(set.resolve(other, { 'Fn::Join': ['', [viaOutput, '/models/*']] })).toBe(
      'arn:aws:s3:::«name!data!Bucket»/models/*',
    );
    expect(set.resolve(other, { 'Fn::ImportValue': 'data-bucket' })).toBe('artefacts');
    expect(set.resolve(other, { 'Fn::ImportValue': 'nothing' })).toBe(UNKNOWN);
  });

  test('Sub, Split and Select; the unique part of the stack id is a marker of its own', () => {
    expect(set.resolve(data, { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/x' })).toBe(
      'arn:aws:s3:::«name!data!Bucket»/x',
    );
    expect(set.resolve(data, { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] })).toBe(
      '«uuid!data!StackId»',
    );
    expect(set.resolve(data, { 'Fn::If': ['c', 'a', 'b'] })).toBe(UNKNOWN);
  });

  test('a resolved name or ARN points back at its resource', () => {
    expect(set.resourceNamedBy('artefacts', 'AWS::S3::Bucket')?.logicalId).toBe('Named');
    expect(set.resourceNamedBy('arn:aws:s3:::«name!data!Bucket»', 'AWS::S3::Bucket')?.logicalId).toBe(
      'Bucket',
    );
    expect(set.resourceNamedBy('other', 'AWS::S3::Bucket')).toBeUndefined();
  });
});

describe('state machine definitions', () => {
  test('tokens of the Fn::Join become markers; JSONPath values become unknown', () => {
    const set = new TemplateSet([
      stack('p', {
        Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
        Machine: stateMachine(
          task('Notify', 'arn:aws:states:::sns:publish', { TopicArn: { Ref: 'Topic' }, 'Message.$': '$.m' }),
        ),
      }),
    ]);
    const [machine] = set.resources('AWS::StepFunctions::StateMachine');
    const [call] = definitionCalls(definitionOf(set, machine));
    expect(call).toEqual({
      state: 'Notify',
      path: 'States/Notify/Parameters',
      integration: { kind: 'optimized', service: 'sns', operation: 'publish', pattern: '' },
      parameters: { TopicArn: 'arn:aws:sns:«Region»:«AccountId»:«name!p!Topic»', Message: UNKNOWN },
    });
  });

  test('integrations: SDK, optimized with a pattern, a function ARN; Map item readers and Parallel branches', () => {
    expect(parseIntegration('arn:aws:states:::aws-sdk:sagemaker:createModel')).toEqual({
      kind: 'sdk',
      service: 'sagemaker',
      operation: 'createModel',
      pattern: '',
    });
    expect(parseIntegration('arn:aws:states:::sagemaker:createTrainingJob.sync')).toMatchObject({
      operation: 'createTrainingJob',
      pattern: 'sync',
    });
    expect(parseIntegration('arn:aws:lambda:r:a:function:f').kind).toBe('function');
    const calls = definitionCalls({
      States: {
        M: {
          Type: 'Map',
          ItemReader: { Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: { Bucket: 'b' } },
          ItemProcessor: { States: { Inner: { Type: 'Task', Resource: 'arn:aws:lambda:r:a:function:f' } } },
        },
        P: {
          Type: 'Parallel',
          Branches: [{ States: { B: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish' } } }],
        },
      },
    });
    expect(calls.map((c) => c.path)).toEqual([
      'States/M/ItemReader',
      'States/M/ItemProcessor/States/Inner/Parameters',
      'States/P/Branches/0/States/B/Parameters',
    ]);
  });
});

describe('IAM patterns', () => {
  const overlap = (policy: string, required: string) =>
    patternsOverlap(iamPattern(policy), requiredPattern(required));

  test('a policy resource covers a required ARN, a kind of resource, or a name known only at run time', () => {
    expect(overlap('arn:aws:s3:::b/models/*', 'arn:aws:s3:::b/models/x.tar.gz')).toBe(true);
    expect(overlap('arn:aws:s3:::b/models/*', 'arn:aws:s3:::b/champion/x')).toBe(false);
    expect(overlap('arn:aws:s3:::b/*', 'arn:{segment}:s3:::{segment}/{any}')).toBe(true);
    expect(overlap('arn:aws:s3:::b/*', 'arn:{segment}:s3:::{segment}')).toBe(false);
    expect(overlap('arn:aws:s3:::b', 'arn:{segment}:s3:::{segment}/{any}')).toBe(false);
    expect(overlap('arn:aws:sagemaker:r:a:model/rec-*', `arn:aws:sagemaker:r:a:model/${UNKNOWN}`)).toBe(true);
    expect(overlap('arn:aws:sagemaker:r:a:model/rec-*', 'arn:aws:sagemaker:r:a:endpoint/x')).toBe(false);
    expect(overlap('*', 'arn:aws:sns:r:a:t')).toBe(true);
  });

  test('statements: actions match case-blind and with wildcards; a Deny on every resource wins', () => {
    const set = new TemplateSet([
      stack('s', {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            Policies: [
              {
                PolicyDocument: {
                  Statement: [{ Effect: 'Allow', Action: 'kms:GenerateDataKey*', Resource: '*' }],
                },
              },
            ],
          },
        },
        Policy: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            Roles: [{ Ref: 'Role' }],
            PolicyDocument: {
              Statement: [
                { Effect: 'Allow', Action: ['sagemaker:createModel', 'sns:Publish'], Resource: '*' },
                { Effect: 'Deny', Action: 'sns:*', Resource: '*' },
              ],
            },
          },
        },
      }),
    ]);
    const statements = roleStatements(set, set.resources('AWS::IAM::Role')[0]);
    expect(allows(statements, 'kms:GenerateDataKey', 'k')).toBe(true);
    expect(allows(statements, 'sagemaker:CreateModel', 'm')).toBe(true);
    expect(allows(statements, 'sns:Publish', 't')).toBe(false);
    expect(allows(statements, 'kms:Decrypt', 'k')).toBe(false);
  });
});
