import { type CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  documentProblems,
  flagDocument,
  unusableVariantNames,
  type FlagSet,
} from '../../../../lambda/platform/feature-flags/flag-document';
import { FLAG_ENV, FLAG_MAX_AGE_SECONDS } from '../../../../lambda/platform/feature-flags/function-contract';
import { Problems } from '../../config/config-error';
import { BundledFunction } from '../compute/bundled-function';

/**
 * How a new flag document reaches the functions, with AppConfig's predefined strategies (no custom
 * strategy, of which an account holds at most 20):
 * - `all-at-once` (`AppConfig.AllAtOnce`): every function at once; a sandbox sees a change at the
 *   next read.
 * - `canary` (`AppConfig.Canary10Percent20Minutes`): exponential from 10% over 20 minutes, then 10
 *   minutes of baking, the strategy AWS recommends for production.
 * (https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-deployment-strategy-predefined.html)
 */
export type FlagRollout = 'all-at-once' | 'canary';

const STRATEGY: Record<FlagRollout, appconfig.DeploymentStrategyId> = {
  'all-at-once': appconfig.DeploymentStrategyId.ALL_AT_ONCE,
  canary: appconfig.DeploymentStrategyId.CANARY_10_PERCENT_20_MINUTES,
};

export interface FeatureFlagsProps {
  /** The design's flags: their schema, definitions and deployed values. */
  readonly flags: FlagSet;
  /**
   * The endpoint's production variant names, the keys of the A/B weights flag: the validator
   * refuses a document that names any other.
   */
  readonly variantNames: readonly string[];
  /** The design's validator handler under `lambda/`, e.g. `<design>/flags-validator`. */
  readonly validatorHandler: string;
  /** Says what the flags steer, e.g. the serving function's route. */
  readonly description: string;
  readonly rollout: FlagRollout;
  /**
   * How long a function serves the flags it read before it reads again; a change reaches every
   * function within this (after its rollout). At least 15 s, AppConfig's minimum poll interval.
   * @default Duration.seconds(45)
   */
  readonly maxAge?: Duration;
  /**
   * Deadline of one read, the most a request (a cold start's first one included) waits for flags.
   * @default 150 ms
   */
  readonly readTimeoutMs?: number;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * DESTROY lets `cdk destroy` remove the environment and the profile even while functions read
   * them, and removes the hosted versions; anything else keeps AppConfig's deletion protection and
   * the versions.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A design's feature flags in AWS AppConfig: an application, one environment, and a hosted
 * `AWS.AppConfig.FeatureFlags` profile whose first version holds the design's defaults, checked by a
 * Lambda validator before any version deploys. The defaults are checked here too, with the same
 * schema, so a bad default fails the synth naming the field. `bindTo` gives a function the flags:
 * read access to this profile only, where to find it, and the defaults it serves when AppConfig
 * cannot answer. A function in an isolated VPC also needs the `AppConfigData` interface endpoint.
 */
export class FeatureFlags extends Construct {
  public readonly application: appconfig.Application;
  public readonly environment: appconfig.Environment;
  public readonly configuration: appconfig.HostedConfiguration;
  public readonly validator: lambda.IFunction;
  public readonly maxAge: Duration;
  public readonly readTimeoutMs: number;
  private readonly defaultsJson: string;

  constructor(scope: Construct, id: string, props: FeatureFlagsProps) {
    super(scope, id);
    this.maxAge = props.maxAge ?? Duration.seconds(45);
    this.readTimeoutMs = props.readTimeoutMs ?? 150;
    validate(props, this.maxAge, this.readTimeoutMs);
    this.defaultsJson = JSON.stringify(props.flags.defaults);

    const validator = new BundledFunction(this, 'Validator', {
      handlerFolder: props.validatorHandler,
      description: `Validates feature flag documents: ${props.description}`,
      timeout: Duration.seconds(15),
      memorySizeMb: 256,
      environment: { [FLAG_ENV.variantNames]: JSON.stringify(props.variantNames) },
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    });
    this.validator = validator.function;

    // A profile or environment read in the last hour (the account's protection period) cannot be
    // deleted unless the check is bypassed
    // (https://docs.aws.amazon.com/appconfig/latest/userguide/deletion-protection-check.html).
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    const deletionProtectionCheck = destroy
      ? appconfig.DeletionProtectionCheck.BYPASS
      : appconfig.DeletionProtectionCheck.ACCOUNT_DEFAULT;
    this.application = new appconfig.Application(this, 'Application', { description: props.description });
    this.environment = new appconfig.Environment(this, 'Environment', {
      application: this.application,
      description: props.description,
      deletionProtectionCheck,
    });
    this.configuration = new appconfig.HostedConfiguration(this, 'Flags', {
      application: this.application,
      description: props.description,
      type: appconfig.ConfigurationType.FEATURE_FLAGS,
      content: appconfig.ConfigurationContent.fromInlineJson(JSON.stringify(flagDocument(props.flags))),
      // Adds the function's resource policy for appconfig.amazonaws.com.
      validators: [appconfig.LambdaValidator.fromFunction(validator.function)],
      deploymentStrategy: appconfig.DeploymentStrategy.fromDeploymentStrategyId(
        this,
        'Rollout',
        STRATEGY[props.rollout],
      ),
      deployTo: [this.environment],
      deletionProtectionCheck,
    });
    // The L2 retains every hosted version; a sandbox leaves nothing behind.
    if (destroy)
      (this.configuration.node.findChild('Resource') as CfnResource).applyRemovalPolicy(
        RemovalPolicy.DESTROY,
      );
  }

  /**
   * Lets `fn` start a session on this profile and read it, and only this profile
   * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsappconfig.html:
   * both actions act on the `configuration` resource, an environment's profile).
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
      resourceArns: [
        `${this.environment.environmentArn}/configuration/${this.configuration.configurationProfileId}`,
      ],
    });
  }

  /** What a reading function's environment holds (`lambda/platform/feature-flags/function-contract.ts`). */
  public functionEnvironment(): Record<string, string> {
    return {
      [FLAG_ENV.applicationId]: this.application.applicationId,
      [FLAG_ENV.environmentId]: this.environment.environmentId,
      [FLAG_ENV.profileId]: this.configuration.configurationProfileId,
      [FLAG_ENV.defaults]: this.defaultsJson,
      [FLAG_ENV.maxAgeSeconds]: String(this.maxAge.toSeconds()),
      [FLAG_ENV.timeoutMs]: String(this.readTimeoutMs),
    };
  }

  /** Gives `fn` the flags: its environment, and read access to this profile. */
  public bindTo(fn: lambda.Function): iam.Grant {
    for (const [name, value] of Object.entries(this.functionEnvironment())) fn.addEnvironment(name, value);
    return this.grantRead(fn);
  }
}

function validate(props: FeatureFlagsProps, maxAge: Duration, readTimeoutMs: number): void {
  const problems = new Problems();
  for (const problem of documentProblems(props.flags.schema, flagDocument(props.flags))) {
    problems.add('flags', `the default document's ${problem}`);
  }
  for (const name of unusableVariantNames(props.variantNames)) {
    problems.add('variantNames', `${JSON.stringify(name)} cannot be a flag attribute key`);
  }
  problems.checkNumber(
    'maxAge (seconds)',
    maxAge.toSeconds(),
    FLAG_MAX_AGE_SECONDS.min,
    FLAG_MAX_AGE_SECONDS.max,
    true,
  );
  problems.checkNumber('readTimeoutMs', readTimeoutMs, 1, 10_000, true);
  if (!/^[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(props.validatorHandler)) {
    problems.add(
      'validatorHandler',
      `must be a folder under lambda/, got ${JSON.stringify(props.validatorHandler)}`,
    );
  }
  problems.throwIfAny('FeatureFlags props');
}
