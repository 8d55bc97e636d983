import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeCdkProviderRuntime } from '../../nag/acknowledge-cdk-provider-runtime';
import { acknowledgeLambdaBasicExecution } from '../../nag/acknowledge-lambda-basic-execution';
import { acknowledgeProviderInvokesHandler } from '../../nag/acknowledge-provider-invokes-handler';
import { BundledFunction } from '../compute/bundled-function';
import { uniqueRetainedName } from './stack-unique-suffix';

export interface AccountDatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly key: kms.IKey;
  /** Aurora capacity units; 0 lets an idle cluster pause and cost nothing but storage. */
  readonly minCapacityAcu: number;
  readonly maxCapacityAcu: number;
  /** A reader in another AZ that takes over if the writer fails. */
  readonly multiAz: boolean;
  /**
   * Rotate the master credentials every 30 days. The rotation function runs in the VPC and calls
   * Secrets Manager, so the network needs a Secrets Manager endpoint where this is on.
   */
  readonly rotateCredentials: boolean;
  readonly backupRetention: Duration;
  /** Refuse deletion, and snapshot the data when the stack is deleted. */
  readonly protect: boolean;
  /** Retention of the exported PostgreSQL log and of the bootstrap function's log. @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** What `cdk destroy` does to those logs. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export const DATABASE_NAME = 'recommender';
/** Fixed, so clients in other stacks need no cross-stack reference for it. */
export const DATABASE_PORT = 5432;
/**
 * The database user every client connects as, with IAM authentication. One user per cluster, and
 * one cluster per deployment: the IAM grant names the cluster's resource id and this user.
 */
export const DATABASE_USER = 'etl';

/**
 * The account database: Aurora PostgreSQL Serverless v2 in isolated subnets, encrypted with the data
 * key. It holds PII (dates of birth, cities): only the functions given `allowFrom` and `grantConnect`
 * can reach it, and nothing public can.
 *
 * Clients authenticate with IAM tokens they sign themselves, so they read no secret and the VPC needs
 * no route to Secrets Manager. The master password stays in Secrets Manager for the RDS Data API,
 * through which a custom resource creates the IAM user at deploy time (lambda/db-bootstrap).
 */
export class AccountDatabase extends Construct implements ec2.IConnectable {
  public readonly cluster: rds.DatabaseCluster;
  public readonly connections: ec2.Connections;
  /** The cluster's PostgreSQL log, created before the cluster so that its retention applies. */
  public readonly postgresqlLogs: logs.LogGroup;
  /** Completes once the IAM database user exists; clients depend on it implicitly via the stack. */
  public readonly bootstrap: CustomResource;

  constructor(scope: Construct, id: string, props: AccountDatabaseProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Account database: admits only its clients',
      allowAllOutbound: false,
    });
    // RDS writes the exported log to /aws/rds/cluster/<identifier>/postgresql and creates the group
    // itself, with no expiry and outside the stack, unless it already exists
    // (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html).
    // A known identifier lets the stack create that group first and own it: its retention, and its
    // deletion after the cluster's. CDK's cloudwatchLogsRetention only sets retention after the
    // cluster exists, from a custom resource, and leaves the group behind on destroy. The identifier
    // ends in the stack's suffix, so a group retained by a destroyed production stack never
    // collides with the next one.
    const clusterIdentifier = uniqueRetainedName(this, 63);
    this.postgresqlLogs = new logs.LogGroup(this, 'PostgresqlLogs', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      clusterIdentifier,
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
      // The Data API runs the deploy-time bootstrap; Aurora PostgreSQL 16.1 and later support it on
      // Serverless v2 (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.Data_API.html).
      enableDataApi: true,
      cloudwatchLogsExports: ['postgresql'],
      backup: { retention: props.backupRetention },
      deletionProtection: props.protect,
      removalPolicy: props.protect ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    this.cluster.node.defaultChild!.node.addDependency(this.postgresqlLogs);
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
    this.bootstrap = this.createBootstrap(props);
  }

  /** The custom resource that creates DATABASE_USER through the Data API, once the writer is up. */
  private createBootstrap(props: AccountDatabaseProps): CustomResource {
    const secret = this.cluster.secret!;
    const fn = new BundledFunction(this, 'Bootstrap', {
      handlerFolder: 'platform/db-bootstrap',
      description: 'Creates the IAM-authenticated database user through the RDS Data API',
      // Waits out a paused database (DatabaseResumingException) for up to two minutes.
      timeout: Duration.minutes(3),
      environment: { POWERTOOLS_SERVICE_NAME: 'db-bootstrap' },
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    });
    // The Data API reads the secret with the caller's permissions
    // (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html).
    fn.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['rds-data:ExecuteStatement'],
        resources: [this.cluster.clusterArn],
      }),
    );
    secret.grantRead(fn.function);
    const provider = new cr.Provider(this, 'BootstrapProvider', {
      onEventHandler: fn.function,
      logGroup: new logs.LogGroup(this, 'BootstrapProviderLogs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
        removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      }),
    });
    acknowledgeLambdaBasicExecution(provider);
    acknowledgeCdkProviderRuntime(provider);
    acknowledgeProviderInvokesHandler(provider, fn.function);
    const resource = new CustomResource(this, 'BootstrapUser', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::DatabaseUser',
      properties: {
        ClusterArn: this.cluster.clusterArn,
        SecretArn: secret.secretArn,
        Database: DATABASE_NAME,
        User: DATABASE_USER,
      },
    });
    // The writer instance must be up (and the secret attached) before the Data API can answer.
    resource.node.addDependency(this.cluster);
    return resource;
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
   * Lets `grantee` connect as DATABASE_USER with IAM authentication: `rds-db:connect` on this
   * cluster's resource id and that user only
   * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html).
   * Written on the grantee's side, so clients in other stacks do not make this stack depend on theirs.
   */
  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['rds-db:connect'],
      resourceArns: [
        Stack.of(this).formatArn({
          service: 'rds-db',
          resource: 'dbuser',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          resourceName: `${this.cluster.clusterResourceIdentifier}/${DATABASE_USER}`,
        }),
      ],
    });
  }

  /** The environment of a client of `lambda/shared-db`. */
  public clientEnvironment(): Record<string, string> {
    return {
      DB_IAM_AUTH: 'true',
      DB_HOST: this.cluster.clusterEndpoint.hostname,
      DB_PORT: String(DATABASE_PORT),
      DB_NAME: DATABASE_NAME,
      DB_USER: DATABASE_USER,
      // IAM authentication requires TLS.
      DB_SSL: 'true',
      // The runtime's bundle of CA certificates includes the RDS ones.
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
    };
  }
}
