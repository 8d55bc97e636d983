import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Fact, FactName } from 'aws-cdk-lib/region-info';
import {
  DLC_ACCOUNTS_MISSING_FROM_FACTS,
  DlcImage,
  dlcRegistryAccount,
  dlcRegistryAccounts,
} from '../../../../lib/platform/constructs/ml/dlc-image';

/**
 * "Region Availability" of the Deep Learning Containers documentation, Deep Learning Containers
 * table: https://aws.github.io/deep-learning-containers/reference/region_availability/ (source:
 * aws/deep-learning-containers, docs/reference/region_availability.md).
 */
const DOCUMENTED: Readonly<Record<string, string>> = {
  'us-east-2': '763104351884',
  'us-east-1': '763104351884',
  'us-west-1': '763104351884',
  'us-west-2': '763104351884',
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-south-2': '772153158452',
  'ap-southeast-3': '907027046896',
  'ap-southeast-5': '550225433462',
  'ap-southeast-4': '457447274322',
  'ap-south-1': '763104351884',
  'ap-southeast-6': '633930458069',
  'ap-northeast-3': '364406365360',
  'ap-northeast-2': '763104351884',
  'ap-southeast-1': '763104351884',
  'ap-southeast-2': '763104351884',
  'ap-east-2': '975050140332',
  'ap-southeast-7': '590183813437',
  'ap-northeast-1': '763104351884',
  'ca-west-1': '204538143572',
  'ca-central-1': '763104351884',
  'eu-central-1': '763104351884',
  'eu-west-1': '763104351884',
  'eu-west-2': '763104351884',
  'eu-south-1': '692866216735',
  'eu-west-3': '763104351884',
  'eu-south-2': '503227376785',
  'eu-north-1': '763104351884',
  'eu-central-2': '380420809688',
  'il-central-1': '780543022126',
  'mx-central-1': '637423239942',
  'me-south-1': '217643126080',
  'me-west-1': '124382933778',
  'me-central-1': '914824155844',
  'sa-east-1': '763104351884',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
};

describe('DLC registry accounts', () => {
  test("every region of AWS's table resolves to the table's account", () => {
    const resolved = Object.fromEntries(
      Object.keys(DOCUMENTED).map((region) => [region, dlcRegistryAccount(region)]),
    );
    expect(resolved).toEqual(DOCUMENTED);
  });

  test("aws-cdk-lib's facts agree with the table wherever both name a region", () => {
    const disagreements = Object.entries(DOCUMENTED).filter(([region, account]) => {
      const fact = Fact.find(region, FactName.DLC_REPOSITORY_ACCOUNT);
      return fact !== undefined && fact !== account;
    });
    expect(disagreements).toEqual([]);
  });

  test('the supplement holds only regions the facts lack, so it shrinks as aws-cdk-lib catches up', () => {
    const known = Object.keys(DLC_ACCOUNTS_MISSING_FROM_FACTS).filter(
      (region) => Fact.find(region, FactName.DLC_REPOSITORY_ACCOUNT) !== undefined,
    );
    expect(known).toEqual([]);
    for (const [region, account] of Object.entries(DLC_ACCOUNTS_MISSING_FROM_FACTS)) {
      expect({ region, account }).toEqual({ region, account: DOCUMENTED[region] });
    }
  });
});

describe('DlcImage', () => {
  test('GIVEN an environment-agnostic stack THEN the account comes from a mapping of every known region', () => {
    const stack = new Stack();
    const image = DlcImage.pytorchInference('cpu');
    expect(stack.resolve(image.imageUri(stack))).toEqual({
      'Fn::Join': [
        '',
        [
          { 'Fn::FindInMap': ['DlcRegistryAccounts', { Ref: 'AWS::Region' }, 'account'] },
          '.dkr.ecr.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          `/pytorch-inference:${image.tag}`,
        ],
      ],
    });
    const mapping = Template.fromStack(stack).toJSON().Mappings.DlcRegistryAccounts;
    expect(mapping).toEqual(
      Object.fromEntries(
        Object.entries(dlcRegistryAccounts()).map(([region, account]) => [region, { account }]),
      ),
    );
    expect(mapping['il-central-1']).toEqual({ account: '780543022126' });
  });

  test('GIVEN a stack in a concrete region THEN the URI names its account and the template has no mapping', () => {
    const stack = new Stack(new App(), 'CapeTown', {
      env: { account: '123456789012', region: 'af-south-1' },
    });
    const image = DlcImage.pytorchTrainingGpu();
    expect(stack.resolve(image.imageUri(stack))).toEqual({
      'Fn::Join': [
        '',
        ['626614931356.dkr.ecr.af-south-1.', { Ref: 'AWS::URLSuffix' }, `/pytorch-training:${image.tag}`],
      ],
    });
    expect(Template.fromStack(stack).toJSON().Mappings).toBeUndefined();
  });

  test('GIVEN a concrete region without a DLC registry THEN the synth fails naming the region and the document', () => {
    const stack = new Stack(new App(), 'Nowhere', {
      env: { account: '123456789012', region: 'us-gov-west-1' },
    });
    expect(() => DlcImage.pytorchTrainingGpu().imageUri(stack)).toThrow(
      /No Deep Learning Containers registry is known in us-gov-west-1 .*region_availability/,
    );
  });

  test("grantPull allows pulling from the region's DLC repository, not the own account's, and returns the grant", () => {
    const stack = new Stack(new App(), 'Milan', { env: { account: '123456789012', region: 'eu-south-1' } });
    const role = new iam.Role(stack, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    });
    const grant = DlcImage.pytorchInference('gpu').grantPull(stack, role);
    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':ecr:eu-south-1:692866216735:repository/pytorch-inference',
                ],
              ],
            },
          },
          { Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
        ],
      },
    });
  });
});
