import * as path from 'node:path';
import { type Duration, RemovalPolicy, type Size, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

const PROJECT_ROOT = path.join(__dirname, '..', '..', '..', '..');

export interface BundledFunctionProps {
  /** Folder under `lambda/` whose `handler.ts` exports `handler`, e.g. `platform/evaluation-gate`. */
  readonly handlerFolder: string;
  readonly description: string;
  /**
   * The network to run in, for functions that reach the cache or the database.
   * @default - outside any VPC (the function reaches AWS APIs over their public endpoints)
   */
  readonly network?: { readonly vpc: ec2.IVpc; readonly subnets: ec2.SubnetSelection };
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySizeMb?: number;
  readonly environment: Readonly<Record<string, string>>;
  /** @default - no reservation */
  readonly reservedConcurrency?: number;
  /** Space in /tmp. @default - 512 MiB */
  readonly ephemeralStorage?: Size;
  /**
   * Folders of the repository the handler reads at run time, copied next to the bundle: the folder's
   * name in the bundle -> its path in the repository (e.g. `{ sql: 'sql/<design>' }`).
   * @default - none
   */
  readonly assetFolders?: Readonly<Record<string, string>>;
  /**
   * Bundle the AWS SDK's libraries (e.g. `@aws-sdk/rds-signer`), which the Lambda runtime does not
   * promise to provide; its service clients (`@aws-sdk/client-*`) still come from the runtime.
   * @default false - every `@aws-sdk/*` package comes from the runtime
   */
  readonly bundleAwsSdkLibraries?: boolean;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A TypeScript handler from `lambda/` bundled by esbuild (minified, source maps, the runtime's AWS
 * SDK), on arm64 and the current Node runtime, optionally inside the VPC with a security group that
 * allows only HTTPS to AWS APIs until peers are added, traced, logging JSON to a log group with a set retention.
 */
export class BundledFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  /** Set for a function in a VPC; it admits nothing and sends only HTTPS until peers are added. */
  public readonly securityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);
    this.securityGroup = props.network
      ? new ec2.SecurityGroup(this, 'SecurityGroup', {
          vpc: props.network.vpc,
          description: props.description,
          allowAllOutbound: false,
        })
      : undefined;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: props.description,
      entry: path.join(PROJECT_ROOT, 'lambda', props.handlerFolder, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMb ?? 512,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      ephemeralStorageSize: props.ephemeralStorage,
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups: this.securityGroup ? [this.securityGroup] : undefined,
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: new logs.LogGroup(this, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
        removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      }),
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        format: nodejs.OutputFormat.CJS,
        // esbuild's file sizes and "Done" only when the synth asks for bundling output
        // (`-c verbose=true`, see bin/bundling-output.ts); its warnings and errors always.
        logLevel: [true, 'true'].includes(this.node.tryGetContext('verbose'))
          ? nodejs.LogLevel.INFO
          : nodejs.LogLevel.WARNING,
        // The runtime's AWS SDK: a smaller bundle, loaded only by the code paths that call AWS.
        externalModules: props.bundleAwsSdkLibraries ? ['@aws-sdk/client-*'] : ['@aws-sdk/*'],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) =>
            Object.entries(props.assetFolders ?? {}).map(
              ([name, from]) => `cp -R "${path.join(inputDir, from)}" "${path.join(outputDir, name)}"`,
            ),
        },
      },
      environment: {
        // Powertools names the service after the handler's folder unless the caller says otherwise.
        POWERTOOLS_SERVICE_NAME: path.basename(props.handlerFolder),
        ...props.environment,
        // Stack traces in the logs point into lambda/ sources instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
      },
    });

    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(
      'blueprint:handler',
      props.handlerFolder,
    );

    // HTTPS to AWS APIs: the subnets have no route out, so only the VPC's endpoints (interface, and
    // the S3 gateway whose addresses lie outside the VPC range) can answer.
    this.securityGroup?.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs via VPC endpoints');

    const role = this.function.role!;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS managed policy grants exactly log stream creation and writes for the function.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'The AWS managed policy grants the ENI actions Lambda needs to run in the VPC; they take no resource ARN.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
    });
  }
}
