import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';

export interface AccountDatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly key: kms.IKey;
  /** Aurora capacity units; 0 lets an idle cluster pause and cost nothing but storage. */
  readonly minCapacityAcu: number;
  readonly maxCapacityAcu: number;
  /** A reader in another AZ that takes over if the writer fails. */
  readonly multiAz: boolean;
  /** Rotate the credentials every 30 days. */
  readonly rotateCredentials: boolean;
  readonly backupRetention: Duration;
  /** Refuse deletion, and snapshot the data when the stack is deleted. */
  readonly protect: boolean;
}

export const DATABASE_NAME = 'recommender';
/** Fixed, so clients in other stacks need no cross-stack reference for it. */
export const DATABASE_PORT = 5432;

/**
 * The account database: Aurora PostgreSQL Serverless v2 in isolated subnets, encrypted with the data
 * key, credentials in Secrets Manager. It holds PII (dates of birth, cities): only the functions
 * given `allowFrom` and `grantConnect` can reach it, and nothing public can.
 */
export class AccountDatabase extends Construct implements ec2.IConnectable {
  public readonly cluster: rds.DatabaseCluster;
  public readonly connections: ec2.Connections;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AccountDatabaseProps) {
    super(scope, id);
    this.key = props.key;
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Account database: admits only its clients',
      allowAllOutbound: false,
    });
    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      // 16.6 supports scaling to 0 ACU with automatic pause.
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
      defaultDatabaseName: DATABASE_NAME,
      port: DATABASE_PORT,
      credentials: rds.Credentials.fromGeneratedSecret('recommender_admin', { encryptionKey: props.key }),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      writer: rds.ClusterInstance.serverlessV2('Writer'),
      readers: props.multiAz ? [rds.ClusterInstance.serverlessV2('Reader', { scaleWithWriter: true })] : [],
      serverlessV2MinCapacity: props.minCapacityAcu,
      serverlessV2MaxCapacity: props.maxCapacityAcu,
      serverlessV2AutoPauseDuration: props.minCapacityAcu === 0 ? Duration.minutes(10) : undefined,
      storageEncrypted: true,
      storageEncryptionKey: props.key,
      iamAuthentication: true,
      cloudwatchLogsExports: ['postgresql'],
      backup: { retention: props.backupRetention },
      deletionProtection: props.protect,
      removalPolicy: props.protect ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    this.connections = new ec2.Connections({
      securityGroups: [securityGroup],
      defaultPort: ec2.Port.tcp(DATABASE_PORT),
    });
    if (props.rotateCredentials) {
      this.cluster.addRotationSingleUser({ automaticallyAfter: Duration.days(30) });
    } else {
      Validations.of(this.cluster.node.findChild('Secret')).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Sandbox credentials are disposable and never leave Secrets Manager; production rotates them every 30 days.',
      });
    }
    if (!props.protect) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'The sandbox profile must be removable by cdk destroy; production enables deletion protection.',
      });
    }
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The default port is reachable only from the security groups given allowFrom, in isolated subnets.',
    });
  }

  /**
   * Lets `client` open connections to the database. The rule is created beside the client's
   * security group, so clients in other stacks do not make this stack depend on theirs.
   */
  public allowFrom(client: ec2.IConnectable): void {
    const port = DATABASE_PORT;
    for (const [i, peer] of client.connections.securityGroups.entries()) {
      new ec2.CfnSecurityGroupIngress(peer, `AccountDatabaseIngress${i}`, {
        groupId: this.connections.securityGroups[0].securityGroupId,
        sourceSecurityGroupId: peer.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        description: 'Account database client',
      });
      peer.addEgressRule(this.connections.securityGroups[0], ec2.Port.tcp(port), 'Account database');
    }
  }

  /**
   * Lets `grantee` read the credentials secret (its ARN goes to the client as DB_SECRET_ARN). The
   * grant is written on the grantee's side only, so clients in other stacks do not make this stack
   * depend on theirs.
   */
  public grantConnect(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resourceArns: [this.cluster.secret!.secretArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [this.key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
      },
    });
  }

  /** The environment of a client of `lambda/shared-db`. */
  public clientEnvironment(): Record<string, string> {
    return {
      DB_SECRET_ARN: this.cluster.secret!.secretArn,
      DB_SSL: 'true',
      // The runtime's bundle of CA certificates includes the RDS ones.
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
    };
  }
}
