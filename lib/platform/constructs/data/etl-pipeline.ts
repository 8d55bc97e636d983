import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
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
import { LAKE_PREFIXES, type EventLake } from './event-lake';

/** The functions the ETL runs, one per step (`lambda/<name>/`). */
export interface EtlFunctions {
  readonly migrate: lambda.IFunction;
  readonly transform: lambda.IFunction;
  readonly features: lambda.IFunction;
  readonly snapshot: lambda.IFunction;
  readonly featureStoreIngest: lambda.IFunction;
}

/**
 * The distributed path: the event side of the features built on the lake with Athena. The queries
 * are SELECTs with `{{as_of}}`, `{{cutoff}}`, `{{half_life_days}}` and `{{day}}` parameters, which
 * the state machine renders per run from values it computed (a timestamp literal, a number, a
 * checked date).
 */
export interface EtlLake {
  readonly lake: EventLake;
  /** Statements run before the loads, each idempotent (`CREATE ... IF NOT EXISTS`). */
  readonly ddl: readonly string[];
  /** Per table, the SELECT of the staged rows it does not hold yet; run as `INSERT INTO <table>`. */
  readonly loads: Readonly<Record<string, string>>;
  /** Per output name, a SELECT run as UNLOAD (gzip JSON lines) to `outputs/<execution>/<name>/`. */
  readonly outputs: Readonly<Record<string, string>>;
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
  /** Build the event-side features on the lake instead of the account database. @default - the database */
  readonly lake?: EtlLake;
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
          'day.$': '$.day',
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
      {
        'asOf.$': '$.asOf',
        k: props.kAnonymity,
        halfLifeDays: props.favouritesHalfLifeDays,
        ...(props.lake ? { engine: 'lake' } : {}),
      },
      '$.features',
    );
    const exportSnapshot = invoke(
      'ExportSnapshot',
      functions.snapshot,
      {
        'cutoff.$': '$.cutoff',
        'validationEnd.$': '$.asOf',
        k: props.kAnonymity,
        ...(props.lake ? { 'lakeOutputs.$': '$.lakeQueries.outputsUrl' } : {}),
      },
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
      definition: props.lake
        ? plan
            .next(migrate)
            .next(this.lakeTables(props.lake))
            .next(this.lakeQueries('LakeTables', props.lake, '$.lakeTables', '$.lakeDdl', failures, 1))
            .next(transformDay)
            .next(this.planLakeQueries(props.lake, props.favouritesHalfLifeDays))
            .next(this.lakeQueries('LoadLake', props.lake, '$.lakeQueries.loads', '$.lakeLoads', failures, 3))
            .next(buildFeatures)
            .next(
              this.lakeQueries(
                'LakeOutputs',
                props.lake,
                '$.lakeQueries.outputs',
                '$.lakeOutputs',
                failures,
                4,
              ),
            )
            .next(exportSnapshot)
            .next(ingestFeatures)
            .next(notify)
        : plan
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

  /** The lake's DDL, the same every run, as the items of the LakeTables map. */
  private lakeTables(lake: EtlLake): sfn.Pass {
    return new sfn.Pass(this, 'PlanLakeTables', {
      comment: "The lake's tables, created where missing",
      result: sfn.Result.fromArray(lake.ddl.map((query, i) => ({ name: `ddl-${i + 1}`, query }))),
      resultPath: '$.lakeTables',
    });
  }

  /**
   * Renders this run's lake queries: each template's parameters replaced by literals computed here
   * (`TIMESTAMP '...'` from the planned instants, the half-life as a number, the day once checked),
   * the loads wrapped in INSERT INTO, the outputs in UNLOAD to a folder of their own per execution
   * (UNLOAD writes only to an empty location: https://docs.aws.amazon.com/athena/latest/ug/unload.html).
   */
  private planLakeQueries(lake: EtlLake, halfLifeDays: number): sfn.Pass {
    // JSONata string literals: JSON's double-quoted strings, escapes included.
    const literal = (text: string) => JSON.stringify(text);
    const outputsUrl = lake.lake.url(LAKE_PREFIXES.outputs);
    const loads = Object.entries(lake.loads).map(
      ([table, sql]) =>
        `{ "name": ${literal(table)}, "query": ${literal(`INSERT INTO ${table} `)} & $render(${literal(sql)}) }`,
    );
    const outputs = Object.entries(lake.outputs).map(
      ([name, sql]) =>
        `{ "name": ${literal(name)}, "query": "UNLOAD (" & $render(${literal(sql)}) & ") TO '" & $prefix & ` +
        `${literal(`${name}/`)} & "' WITH (format = 'JSON')" }`,
    );
    return new sfn.Pass(this, 'PlanLakeQueries', {
      comment: "This run's lake queries, their parameters rendered",
      queryLanguage: sfn.QueryLanguage.JSONATA,
      outputs: `{% (
        $day := $states.input.day;
        $check := $match($day, /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/) ? true : $error("day must be YYYY-MM-DD");
        $timestamp := function($iso) { "TIMESTAMP '" & $replace($replace($iso, "T", " "), "Z", "") & "'" };
        $values := {
          "{{as_of}}": $timestamp($states.input.asOf),
          "{{cutoff}}": $timestamp($states.input.cutoff),
          "{{half_life_days}}": ${literal(String(halfLifeDays))},
          "{{day}}": "'" & $day & "'"
        };
        $render := function($sql) {
          $reduce($keys($values), function($text, $name) { $replace($text, $name, $lookup($values, $name)) }, $sql)
        };
        $prefix := ${literal(outputsUrl)} & $replace($states.context.Execution.Name, /[^A-Za-z0-9_-]/, "-") & "/";
        $merge([$states.input, { "lakeQueries": {
          "outputsUrl": $prefix,
          "loads": [${loads.join(', ')}],
          "outputs": [${outputs.join(', ')}]
        } }])
      ) %}`,
    });
  }

  /**
   * Runs the queries listed at `itemsPath` through the lake's workgroup, `concurrency` at a time,
   * each waiting for its query to end (`.sync`); the result lists each query's id and bytes scanned.
   * https://docs.aws.amazon.com/step-functions/latest/dg/connect-athena.html
   */
  private lakeQueries(
    id: string,
    lake: EtlLake,
    itemsPath: string,
    resultPath: string,
    failures: FailureHandling,
    concurrency: number,
  ): sfn.Map {
    const map = new sfn.Map(this, id, {
      itemsPath,
      maxConcurrency: concurrency,
      resultPath,
      itemSelector: { 'name.$': '$$.Map.Item.Value.name', 'query.$': '$$.Map.Item.Value.query' },
    });
    // A CustomState, not aws-cdk-lib's AthenaStartQueryExecution: that task adds its own broad
    // Glue and S3 statements, where `EventLake.grantQueries` grants exactly what the lake needs.
    const query = new sfn.CustomState(this, `${id}Query`, {
      stateJson: {
        Type: 'Task',
        Comment: 'One lake query through the workgroup; .sync waits for it to end',
        Resource: `arn:${Aws.PARTITION}:states:::athena:startQueryExecution.sync`,
        Parameters: {
          'QueryString.$': '$.query',
          WorkGroup: lake.lake.workGroupName,
          QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: lake.lake.databaseName },
        },
        ResultSelector: {
          'queryExecutionId.$': '$.QueryExecution.QueryExecutionId',
          'scannedBytes.$': '$.QueryExecution.Statistics.DataScannedInBytes',
        },
      },
    });
    // Athena limits the queries an account runs at once; a query over it is refused, not queued.
    query.addRetry({
      errors: ['Athena.TooManyRequestsException'],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 5,
      jitterStrategy: sfn.JitterType.FULL,
    });
    map.itemProcessor(query);
    return failures.guard(map);
  }
}
