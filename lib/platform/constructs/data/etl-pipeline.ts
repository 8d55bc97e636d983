import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { FailureHandling } from '../workflow/failure-handling';
import { createPipelineStateMachine } from '../workflow/pipeline-state-machine';
import { RAW_EVENTS_PREFIX } from './event-ingestion';

/** The functions the ETL runs, one per step (`lambda/<name>/`). */
export interface EtlFunctions {
  readonly migrate: lambda.IFunction;
  readonly transform: lambda.IFunction;
  readonly features: lambda.IFunction;
  readonly snapshot: lambda.IFunction;
  readonly featureStoreIngest: lambda.IFunction;
}

export interface EtlPipelineProps {
  readonly functions: EtlFunctions;
  readonly rawEvents: s3.IBucket;
  /** Where the distributed map writes its per-object results. */
  readonly results: { readonly bucket: s3.IBucket; readonly prefix: string };
  /** The snapshot bucket, read for the features file the snapshot step exports. */
  readonly snapshotBucket: s3.IBucket;
  readonly kAnonymity: number;
  readonly favouritesHalfLifeDays: number;
  readonly validationDays: number;
  /** Raw objects transformed at once: each holds a database connection. */
  readonly maxConcurrency: number;
  readonly notifications: sns.ITopic;
  readonly scheduleEnabled: boolean;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

const DAY_MS = 86_400_000;

/**
 * The daily ETL, a Step Functions state machine: plan the day, apply schema migrations, transform
 * every raw object of the day in a distributed map (one function per object: this is what scales
 * past one machine), rebuild the features in SQL, export the k-anonymous training snapshot with a
 * temporal split, ingest the user features into the Feature Store. A failure at any step ends the
 * run before the snapshot is published.
 *
 * Input: `{ "day": "YYYY-MM-DD" }`, or nothing for the day before the run started.
 */
export class EtlPipeline extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: EtlPipelineProps) {
    super(scope, id);
    const { functions } = props;
    const failures = new FailureHandling(this, 'Failures', {
      topic: props.notifications,
      subject: 'Recommender ETL failed',
    });
    const invoke = (
      stateId: string,
      fn: lambda.IFunction,
      payload: Record<string, unknown>,
      resultPath: string,
    ) =>
      failures.guard(
        new tasks.LambdaInvoke(this, stateId, {
          lambdaFunction: fn,
          payload: sfn.TaskInput.fromObject(payload),
          payloadResponseOnly: true,
          resultPath,
        }),
      );

    const validationMs = props.validationDays * DAY_MS;
    const plan = new sfn.Pass(this, 'PlanRun', {
      comment: 'The day to process, its raw prefix, and the snapshot cutoff',
      queryLanguage: sfn.QueryLanguage.JSONATA,
      outputs: `{% (
        $day := $exists($states.input.day)
          ? $states.input.day
          : $fromMillis($toMillis($states.context.Execution.StartTime) - ${DAY_MS}, '[Y0001]-[M01]-[D01]');
        $end := $toMillis($day & 'T00:00:00.000Z') + ${DAY_MS};
        {
          'day': $day,
          'prefix': '${RAW_EVENTS_PREFIX}' & $replace($day, '-', '/') & '/',
          'asOf': $fromMillis($end),
          'cutoff': $fromMillis($end - ${validationMs})
        }
      ) %}`,
    });

    const migrate = invoke('Migrate', functions.migrate, {}, '$.migrations');

    const transformObject = new tasks.LambdaInvoke(this, 'TransformObject', {
      lambdaFunction: functions.transform,
      payloadResponseOnly: true,
    });
    // A paused database resumes in seconds; give each object a few chances before the map fails.
    transformObject.addRetry({
      errors: ['DatabaseUnavailableError', 'Lambda.TooManyRequestsException', 'Lambda.ServiceException'],
      interval: Duration.seconds(20),
      backoffRate: 2,
      maxAttempts: 4,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const transformDay = failures.guard(
      new sfn.DistributedMap(this, 'TransformDay', {
        comment: 'One child execution per raw object of the day',
        itemReader: new sfn.S3ObjectsItemReader({
          bucket: props.rawEvents,
          prefix: sfn.JsonPath.stringAt('$.prefix'),
        }),
        itemSelector: {
          bucket: props.rawEvents.bucketName,
          'key.$': '$$.Map.Item.Value.Key',
        },
        maxConcurrency: props.maxConcurrency,
        toleratedFailurePercentage: 0,
        resultWriterV2: new sfn.ResultWriterV2({
          bucket: props.results.bucket,
          prefix: props.results.prefix,
        }),
        resultPath: '$.transform',
      }),
    );
    transformDay.itemProcessor(transformObject);

    const buildFeatures = invoke(
      'BuildFeatures',
      functions.features,
      { 'asOf.$': '$.asOf', k: props.kAnonymity, halfLifeDays: props.favouritesHalfLifeDays },
      '$.features',
    );
    const exportSnapshot = invoke(
      'ExportSnapshot',
      functions.snapshot,
      { 'cutoff.$': '$.cutoff', 'validationEnd.$': '$.asOf', k: props.kAnonymity },
      '$.snapshot',
    );
    const ingestFeatures = invoke(
      'IngestFeatures',
      functions.featureStoreIngest,
      { bucket: props.snapshotBucket.bucketName, 'key.$': '$.snapshot.featuresKey' },
      '$.featureStore',
    );
    const notify = failures.guard(
      new tasks.SnsPublish(this, 'NotifyDone', {
        topic: props.notifications,
        subject: 'Recommender ETL finished',
        message: sfn.TaskInput.fromObject({
          'day.$': '$.day',
          'snapshot.$': '$.snapshot.s3Prefix',
          'features.$': '$.features.rows',
          'featureStore.$': '$.featureStore',
        }),
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );

    ({ stateMachine: this.stateMachine, schedule: this.schedule } = createPipelineStateMachine(this, {
      definition: plan
        .next(migrate)
        .next(transformDay)
        .next(buildFeatures)
        .next(exportSnapshot)
        .next(ingestFeatures)
        .next(notify),
      timeout: Duration.hours(6),
      // States carry user ids and feature rows: keep them out of the logs.
      logExecutionData: false,
      schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '1' }),
      scheduleDescription: "Runs the ETL on the previous day's events, every day at 01:00 UTC",
      scheduleEnabled: props.scheduleEnabled,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    }));
  }
}
