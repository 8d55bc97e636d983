import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AccountDatabase, DATABASE_PORT } from '../../../../lib/platform/constructs/data/account-database';
import {
  DatabaseFunction,
  type DatabaseFunctionProps,
} from '../../../../lib/platform/constructs/data/database-function';

function databaseFunctionIn(props: Partial<DatabaseFunctionProps> = {}) {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Etl');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  const database = new AccountDatabase(stack, 'Accounts', {
    vpc,
    subnets,
    key: new kms.Key(stack, 'Key'),
    minCapacityAcu: 0,
    maxCapacityAcu: 1,
    multiAz: false,
    rotateCredentials: false,
    backupRetention: Duration.days(1),
    protect: false,
  });
  const fn = new DatabaseFunction(stack, 'Migrate', {
    database,
    network: { vpc, subnets },
    handlerFolder: 'platform/db-migrate',
    description: 'Applies the schema',
    timeout: Duration.minutes(1),
    environment: { EXTRA: 'yes' },
    ...props,
  });
  return { stack, database, fn, template: Template.fromStack(stack) };
}

describe('DatabaseFunction', () => {
  const { stack, database, fn, template } = databaseFunctionIn();

  test("tells the client where and how to connect, beside the function's own variables", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Applies the schema',
      Environment: {
        Variables: Match.objectLike({ ...stack.resolve(database.clientEnvironment()), EXTRA: 'yes' }),
      },
      VpcConfig: Match.objectLike({ SecurityGroupIds: [stack.resolve(fn.securityGroup!.securityGroupId)] }),
    });
  });

  test("is admitted by the database's security group on the database port, from its own group", () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: stack.resolve(database.connections.securityGroups[0].securityGroupId),
      SourceSecurityGroupId: stack.resolve(fn.securityGroup!.securityGroupId),
      FromPort: DATABASE_PORT,
      ToPort: DATABASE_PORT,
    });
  });

  test('may connect as the database user with IAM authentication', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('Migrate'),
    );
    const actions = policies.flatMap(([, p]) =>
      (p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap((s) =>
        [s.Action].flat(),
      ),
    );
    expect(actions).toContain('rds-db:connect');
  });

  test('refuses variables the database sets, naming each', () => {
    expect(() =>
      databaseFunctionIn({ environment: { DB_HOST: 'elsewhere', DB_USER: 'root', OWN: '1' } }),
    ).toThrow(
      /Invalid DatabaseFunction Migrate:\n {2}- environment\.DB_HOST: set from the database; leave it out\n {2}- environment\.DB_USER: /,
    );
  });
});
