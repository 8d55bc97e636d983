import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { BLUEPRINT_WILDCARDS } from '../../lib/platform/nag/blueprint-wildcards';
import { TemplateSet, type ResourceRef } from '../../lib/platform/rules/core/templates';
import { role, stack, stateMachine, tasks } from '../rules/fixtures';
import { needsOfSdkValue } from '../support/iam/actions';
import { appTemplateSet } from '../support/iam/app-templates';
import {
  bundledFunctions,
  missingForFunction,
  missingForStateMachines,
  needsOfHandler,
  type MissingPermission,
} from '../support/iam/requirements';
import { sdkImportsOfHandler } from '../support/iam/source-closure';
import { unaccountedWildcards } from '../support/iam/wildcards';
import { appUnderTest, DESIGNS_AND_PROFILES } from './app-under-test';
import { builtForCollection } from './collect';

const LAMBDA_ROOT = path.join(__dirname, '..', '..', 'lambda');

function where(ref: ResourceRef): string {
  return `${ref.stack.stackName}/${ref.logicalId}`;
}

/** One line per missing permission, readable in a failed expectation. */
function describeMissing(missing: readonly MissingPermission[]): string[] {
  return missing.map(
    (m) =>
      `${where(m.principal)} (role ${m.role?.logicalId ?? '?'}) lacks ${m.action} on ${m.resource.replace(/«name!([^!]+)!([^»]+)»/g, '<$2>').replace(/\{(any|segment)\}/g, '*')}: ${m.why}`,
  );
}

describe.each(DESIGNS_AND_PROFILES)('IAM matches the code of %s (%s)', (design, profile) => {
  const set = builtForCollection(() => appTemplateSet(design, profile));
  if (!set) return;
  const functions = bundledFunctions(set);

  test("every function bundled from lambda/ records its handler folder: the platform's or the design's, and it exists", () => {
    // GIVEN every function esbuild bundles in the app's construct tree
    const bundled = appUnderTest(design, profile)
      .app.node.findAll()
      .filter((c) => c instanceof nodejs.NodejsFunction);
    // WHEN the synthesized functions are listed by their handler metadata THEN each is found
    expect(bundled.length).toBeGreaterThan(0);
    expect(functions).toHaveLength(bundled.length);
    // AND each folder belongs to the platform or to this design, and holds a handler
    for (const { handlerFolder } of functions) {
      expect({
        handlerFolder,
        owner: ['platform', design].includes(handlerFolder.split('/')[0]),
        exists: fs.existsSync(path.join(LAMBDA_ROOT, handlerFolder, 'handler.ts')),
      }).toEqual({ handlerFolder, owner: true, exists: true });
    }
  });

  test.each(functions.map((f) => [`${f.fn.logicalId} (lambda/${f.handlerFolder})`, f] as const))(
    'function %s: its role allows every AWS call of its handler, with the keys of what it reaches',
    (_, { fn, handlerFolder }) => {
      expect(describeMissing(missingForFunction(set, fn, handlerFolder))).toEqual([]);
    },
  );

  test('every state machine role allows every call of its definition, with the keys of what it reaches', () => {
    expect(describeMissing(missingForStateMachines(set))).toEqual([]);
  });

  test('every wildcard resource is an accepted one, or "*" for actions without resource-level permissions', () => {
    const unaccounted = unaccountedWildcards(set, BLUEPRINT_WILDCARDS).map(
      (u) =>
        `${where(u.statement.source)} ${u.statement.location}: ${u.finding}${u.actions.length ? ` for ${u.actions.join(', ')}` : ''}`,
    );
    expect(unaccounted).toEqual([]);
  });
});

describe('the IAM checks themselves, on small templates', () => {
  const KEY_ARN = { 'Fn::GetAtt': ['Key', 'Arn'] };
  const encryptedData = {
    Key: { Type: 'AWS::KMS::Key', Properties: {} },
    Bucket: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN } },
          ],
        },
      },
    },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: KEY_ARN } },
  };

  test('a handler closure: static, dynamic and re-exported SDK values, type-only imports left out', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-'));
    fs.mkdirSync(path.join(root, 'fn'));
    fs.mkdirSync(path.join(root, 'shared'));
    fs.writeFileSync(
      path.join(root, 'fn', 'handler.ts'),
      "import type { S3Client } from '@aws-sdk/client-s3';\nimport { read } from '../shared/read';\nexport * from './more';\nexport const handler = async (c: S3Client) => read(c);\n",
    );
    fs.writeFileSync(
      path.join(root, 'shared', 'read.ts'),
      "import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';\nexport async function read(c: S3Client) {\n  const { InvokeEndpointCommand } = await import('@aws-sdk/client-sagemaker-runtime');\n  return [c, new GetObjectCommand({ Bucket: 'b', Key: 'k' }), InvokeEndpointCommand];\n}\n",
    );
    fs.writeFileSync(
      path.join(root, 'fn', 'more.ts'),
      "export { PublishCommand } from '@aws-sdk/client-sns';\nimport { Upload } from '@aws-sdk/lib-storage';\nexport { Upload };\n",
    );
    const found = sdkImportsOfHandler('fn', root)
      .map((i) => `${i.module} ${i.name}`)
      .sort();
    expect(found).toEqual([
      '@aws-sdk/client-s3 GetObjectCommand',
      '@aws-sdk/client-sagemaker-runtime InvokeEndpointCommand',
      '@aws-sdk/lib-storage Upload',
    ]);
    expect(
      needsOfHandler('fn', root)
        .map((n) => n.action)
        .sort(),
    ).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject', 'sagemaker:InvokeEndpoint']);
  });

  test('an SDK command without a known IAM action fails loudly; clients and errors need nothing', () => {
    expect(() => needsOfSdkValue('@aws-sdk/client-bedrock', 'InvokeModelCommand')).toThrow(/no IAM mapping/);
    expect(needsOfSdkValue('@aws-sdk/client-s3', 'S3Client')).toEqual([]);
    expect(needsOfSdkValue('@aws-sdk/client-s3', 'ListObjectsV2Command')).toEqual([
      { action: 's3:ListBucket', resource: 'arn:{segment}:s3:::{segment}' },
    ]);
  });

  test('a function reading an SSE-KMS bucket needs kms:Decrypt on its key, and gets no pass without it', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fn-'));
    fs.mkdirSync(path.join(root, 'reader'));
    fs.writeFileSync(
      path.join(root, 'reader', 'handler.ts'),
      "import { GetObjectCommand } from '@aws-sdk/client-s3';\nexport const handler = () => GetObjectCommand;\n",
    );
    const app = (statements: object[]) =>
      new TemplateSet([
        stack('s', {
          ...encryptedData,
          ...role([
            {
              Action: ['s3:GetObject*', 's3:List*'],
              Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/models/*']] },
            },
            ...statements,
          ]),
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: { Role: { 'Fn::GetAtt': ['MachineRole', 'Arn'] } },
            Metadata: { 'blueprint:handler': 'reader' },
          },
        }),
      ]);
    const missing = (set: TemplateSet) =>
      missingForFunction(set, bundledFunctions(set)[0].fn, 'reader', root).map(
        (m) => `${m.action} ${m.resource}`,
      );
    expect(missing(app([]))).toEqual(['kms:Decrypt arn:aws:kms:«Region»:«AccountId»:key/«name!s!Key»']);
    expect(missing(app([{ Action: 'kms:Decrypt', Resource: KEY_ARN }]))).toEqual([]);
    expect(
      missing(
        new TemplateSet([
          stack('s', { ...role([]), Fn: app([]).resources('AWS::Lambda::Function')[0].resource }),
        ]),
      ),
    ).toEqual(['s3:GetObject arn:{segment}:s3:::{segment}/{any}']);
  });

  test('a state machine publishing to a KMS topic and writing to an SSE-KMS bucket needs the key, as the training pipeline did', () => {
    // GIVEN the training pipeline's shape: sns:publish to an encrypted topic, s3:putObject to an
    // SSE-KMS bucket, a role that allows both calls but no KMS action
    const definition = tasks({
      RecordChampion: [
        'arn:aws:states:::aws-sdk:s3:putObject',
        { Bucket: { Ref: 'Bucket' }, Key: 'champion/metrics.json', 'Body.$': '$.m' },
      ],
      Notify: ['arn:aws:states:::sns:publish', { TopicArn: { Ref: 'Topic' }, 'Message.$': '$' }],
    });
    const grants = [
      {
        Action: 's3:putObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/champion/*']] },
      },
      { Action: 'sns:Publish', Resource: { Ref: 'Topic' } },
    ];
    const app = (extra: object[]) =>
      new TemplateSet([
        stack('s', { ...encryptedData, ...role([...grants, ...extra]), Machine: stateMachine(definition) }),
      ]);
    const missing = (set: TemplateSet) =>
      missingForStateMachines(set).map((m) => `${m.action} (${m.why.split(':')[0]})`);
    // WHEN checked THEN exactly the KMS actions are missing
    expect(missing(app([]))).toEqual([
      'kms:GenerateDataKey (state RecordChampion)',
      'kms:Decrypt (state Notify)',
    ]);
    expect(missing(app([{ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: KEY_ARN }]))).toEqual(
      [],
    );
    // and a grant on the wrong prefix is caught as the call itself
    const elsewhere = new TemplateSet([
      stack('s', {
        ...encryptedData,
        ...role([
          {
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/models/*']] },
          },
          grants[1],
          { Action: 'kms:*', Resource: KEY_ARN },
        ]),
        Machine: stateMachine(definition),
      }),
    ]);
    expect(missing(elsewhere)).toEqual(['s3:PutObject (state RecordChampion)']);
  });

  test('wildcards: "*" only for resource-less actions, other wildcards only when an accepted entry names them', () => {
    const set = new TemplateSet([
      stack('s', {
        ...role([
          { Action: ['xray:PutTraceSegments', 'ec2:DescribeSubnets'], Resource: '*' },
          { Action: ['sagemaker:CreateModel', 'xray:PutTelemetryRecords'], Resource: '*' },
          { Action: 's3:GetObject', Resource: 'arn:aws:s3:::ArtifactsBucket/models/*' },
          { Action: 's3:GetObject', Resource: 'arn:aws:s3:::ArtifactsBucket/secrets/*' },
        ]),
      }),
    ]);
    const accepted = [{ finding: /^Resource::.*Artifacts.*\/models\/\*$/, reason: 'the models prefix' }];
    expect(
      unaccountedWildcards(set, accepted).map(
        (u) => `${u.statement.location} ${u.finding} ${u.actions.join(',')}`,
      ),
    ).toEqual([
      'Properties/PolicyDocument/Statement/1 Resource::* sagemaker:CreateModel',
      'Properties/PolicyDocument/Statement/3 Resource::arn:aws:s3:::ArtifactsBucket/secrets/* ',
    ]);
  });
});
