import * as path from 'node:path';
import { type Duration, RemovalPolicy, type Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeLambdaBasicExecution } from '../../nag/acknowledge-lambda-basic-execution';
import { acknowledgeLambdaVpcAccess } from '../../nag/acknowledge-lambda-vpc-access';
import { acknowledgeXrayWrites } from '../../nag/acknowledge-xray-writes';

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
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * What esbuild leaves out of every bundle: nothing. The AWS SDK clients and libraries are bundled at
 * the versions package-lock.json pins, so a function runs the SDK its tests ran, not the Lambda
 * runtime's, which AWS updates on its own schedule and which does not promise the SDK's libraries
 * (`@aws-sdk/rds-signer`) at all.
 * The tests build these same clients, mocked at `send` (aws-sdk-client-mock) or, where the SDK's
 * own behaviour is the point (retries), speaking HTTP to a loopback server: what they exercise is
 * the pinned SDK.
 *
 * The cost, measured with esbuild's metafile on the handlers as they are now (minified CJS): the
 * cached-ranking function 289 -> 715 KiB, the events functions 617 -> 1067 KiB, the real-time
 * scoring function 614 -> 1056 KiB; the tasks grow by nothing (the database tasks, which bundled
 * rds-signer already) to 920 KiB (sagemaker-cleanup, two control-plane clients: 1528 KiB).
 * Loading the bundle (parse and module evaluation, Node 20, median of 15 runs on a shared x86 host)
 * went from 39 to 56 ms for the cached-ranking function, whose SDK client loads only on a cache
 * miss, and from 86 to 93 ms (events) and 86 to 89 ms (scoring), which load their client at cold
 * start either way; the SageMaker runtime client alone loads in 45 ms from node_modules and 53 ms
 * bundled. A few milliseconds of cold start (17 at most here), paid once per container, buy
 * functions that run what was tested.
 *
 * The one exception is `platform/db-bootstrap`, which loads `@aws-sdk/client-rds-data` from the
 * runtime with `require` at run time: that client is not a dependency of this repository, so its
 * test checks the requests against the pinned API model instead.
 */
const EXTERNAL_MODULES: string[] = [];

/**
 * A TypeScript handler from `lambda/` bundled by esbuild (minified, source maps, the AWS SDK
 * bundled: see EXTERNAL_MODULES), on arm64 and the current Node runtime, optionally inside the VPC
 * with a security group that allows only HTTPS to AWS APIs until peers are added, traced, logging
 * JSON to a log group with a set retention.
 *
 * It holds its NodejsFunction rather than extending it: the log group and the security group must
 * exist before the function (they are its props), and as children of this construct they keep the
 * paths, hence the pinned logical IDs, of log groups that hold a function's history. Functions with
 * a role of their own (EvaluationGate, DatabaseFunction) extend this construct.
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
        // Nothing external: aws-cdk-lib leaves `@aws-sdk/*` out by default, to come from the runtime.
        externalModules: EXTERNAL_MODULES,
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
        // Powertools names the service after the handler's folder, and puts metrics in the design's
        // namespace (set on the app by the blueprint), unless the caller says otherwise.
        POWERTOOLS_SERVICE_NAME: path.basename(props.handlerFolder),
        ...metricsNamespaceOf(this),
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
    acknowledgeLambdaBasicExecution(role);
    if (props.network) acknowledgeLambdaVpcAccess(role);
    acknowledgeXrayWrites(role);
  }
}

/**
 * Context key under which the blueprint puts the design's CloudWatch namespace on the app, so every
 * function's metrics land there without each construct being told.
 */
export const METRICS_NAMESPACE_CONTEXT = 'blueprint:metricsNamespace';

function metricsNamespaceOf(scope: Construct): Record<string, string> {
  const namespace: unknown = scope.node.tryGetContext(METRICS_NAMESPACE_CONTEXT);
  return typeof namespace === 'string' ? { POWERTOOLS_METRICS_NAMESPACE: namespace } : {};
}
