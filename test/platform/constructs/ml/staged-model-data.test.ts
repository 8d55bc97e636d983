import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as cr from 'aws-cdk-lib/custom-resources';
import {
  StagedModelData,
  type StagedModelDataProps,
} from '../../../../lib/platform/constructs/ml/staged-model-data';

const ARCHIVE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'staged-')), 'model.tar.gz');
fs.writeFileSync(ARCHIVE, 'not really gzip: the copy never opens it');

function staged(stack: Stack, props: Partial<StagedModelDataProps> = {}) {
  const key = new kms.Key(stack, 'Key');
  const bucket = new s3.Bucket(stack, 'Models', { encryptionKey: key });
  const source = new s3assets.Asset(stack, 'Archive', { path: ARCHIVE });
  const data = new StagedModelData(stack, 'StageModel', {
    source,
    bucket,
    keyPrefix: 'models/bootstrap/',
    ...props,
  });
  return { key, bucket, source, data, template: Template.fromStack(stack) };
}

describe('StagedModelData', () => {
  test('copies the asset to <prefix><asset hash>/model.tar.gz on create and update, named by that key', () => {
    const { source, data, template } = staged(new Stack());
    expect(data.key).toBe(`models/bootstrap/${source.assetHash}/model.tar.gz`);
    const [resource] = Object.values(template.findResources('Custom::AWS'));
    expect(resource.Properties.Create).toEqual(resource.Properties.Update);
    // The call is JSON joined with references: read it with each reference as <ref>.
    const parts = resource.Properties.Create['Fn::Join'][1] as unknown[];
    const call = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : '<ref>')).join(''));
    expect(call).toEqual({
      service: 'S3',
      action: 'copyObject',
      parameters: { Bucket: '<ref>', Key: data.key, CopySource: `<ref>/${source.s3ObjectKey}` },
      physicalResourceId: { id: data.key },
    });
  });

  test('may read the one asset object, write the one staged key, and use the bucket key, nothing else', () => {
    const stack = new Stack();
    const { source, key, template } = staged(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policy.Properties.PolicyDocument.Statement as Array<{
      Action: string | string[];
      Resource: unknown;
    }>;
    expect(statements.map((s) => s.Action)).toEqual([
      's3:GetObject',
      's3:PutObject',
      ['kms:GenerateDataKey', 'kms:Decrypt'],
    ]);
    expect(JSON.stringify(statements[0].Resource)).toContain(source.s3ObjectKey);
    expect(JSON.stringify(statements[1].Resource)).toMatch(
      /\/models\/bootstrap\/[0-9a-f]{64}\/model\.tar\.gz"/,
    );
    expect(statements[2].Resource).toEqual(stack.resolve(key.keyArn));
  });

  test('leaves KMS out for a bucket without a key', () => {
    const stack = new Stack();
    const bucket = new s3.Bucket(stack, 'Plain');
    const source = new s3assets.Asset(stack, 'Archive', { path: ARCHIVE });
    new StagedModelData(stack, 'StageModel', { source, bucket, keyPrefix: 'models/' });
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(JSON.stringify(policy)).not.toContain('kms:');
  });

  test('logs to a group of its own with the retention and removal policy given', () => {
    const { template } = staged(new Stack(), {
      logRetention: logs.RetentionDays.ONE_MONTH,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
    });
  });

  test('keeps the logical IDs a stack gets from building the copy and its log group itself', () => {
    // GIVEN the resources as a stack used to build them, with the same ids
    const reference = new Stack(new App(), 'Reference');
    new s3assets.Asset(reference, 'Archive', { path: ARCHIVE });
    new cr.AwsCustomResource(reference, 'StageModel', {
      onCreate: { service: 'S3', action: 'copyObject', physicalResourceId: cr.PhysicalResourceId.of('k') },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: ['*'] }),
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(reference, 'StageModelLogs'),
    });
    const referenceIds = Object.keys(Template.fromStack(reference).toJSON().Resources).sort();
    // WHEN the construct builds them
    const stack = new Stack(new App(), 'Construct');
    new StagedModelData(stack, 'StageModel', {
      source: new s3assets.Asset(stack, 'Archive', { path: ARCHIVE }),
      bucket: new s3.Bucket(stack, 'Models'),
      keyPrefix: 'models/',
    });
    // THEN every resource of the reference has the same logical ID (the bucket is the construct's input)
    const ids = Object.keys(Template.fromStack(stack).toJSON().Resources);
    expect(ids).toEqual(expect.arrayContaining(referenceIds));
    expect(ids.filter((id) => !referenceIds.includes(id))).toEqual([expect.stringMatching(/^Models/)]);
  });

  test.each(['/models/', 'models', '', 'models//', 'models/../'])(
    'rejects the key prefix %j, naming it',
    (keyPrefix) => {
      expect(() => staged(new Stack(), { keyPrefix })).toThrow(
        /Invalid StagedModelData .*StageModel:\n {2}- keyPrefix: a relative key prefix ending in '\/'/,
      );
    },
  );
});
