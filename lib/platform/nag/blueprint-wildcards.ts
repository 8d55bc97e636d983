import { LAKE_PREFIXES } from '../constructs/data/event-lake';
import { ARTIFACT_PREFIXES } from '../constructs/ml/artifact-layout';
import { GRANT_HELPER_WILDCARDS, type AcceptedWildcard } from './acknowledge-grant-wildcards';

const artifactPrefixes = [...new Set(Object.values(ARTIFACT_PREFIXES).map((p) => p.split('/')[0]))].join('|');
const lakePrefixes = Object.values(LAKE_PREFIXES)
  .map((p) => p.replace(/\/$/, ''))
  .join('|');
const monitoringPrefixes = [
  ARTIFACT_PREFIXES.monitoringBaseline,
  ARTIFACT_PREFIXES.monitoringBaselineDataset,
  ARTIFACT_PREFIXES.monitoringReports,
]
  .map((p) => p.replace(/\/$/, ''))
  .join('|');

/**
 * Every IAM wildcard the blueprint accepts, each with the reason a reviewer needs. A wildcard not
 * matched here fails synth under cdk-nag.
 */
export const BLUEPRINT_WILDCARDS: readonly AcceptedWildcard[] = [
  ...GRANT_HELPER_WILDCARDS,
  {
    finding: new RegExp(`^Resource::.*Artifacts.*/(${artifactPrefixes})/\\*$`),
    reason:
      'Objects under one prefix of the artefacts bucket: the layout in lib/constructs/ml/artifact-layout.ts.',
  },
  {
    finding: new RegExp(`^Resource::.*Artifacts.*/(${monitoringPrefixes})/\\*$`),
    reason:
      "Objects under one monitoring prefix of the artefacts bucket: the data-quality monitor's baseline, its runs' reports, the baselining job's sample.",
  },
  {
    finding: new RegExp(`^Resource::.*LakeStoreBucket.*/(${lakePrefixes})/\\*$`),
    reason:
      "Objects under one prefix of the event lake's bucket (lib/platform/constructs/data/event-lake.ts, LAKE_PREFIXES): the transform writes staging/, the feature build profiles/, the snapshot reads outputs/.",
  },
  {
    finding: /^Resource::.*LakeStoreBucket.*\/\*$/,
    reason:
      "The ETL's lake queries run with the state machine's permissions (Athena reads and writes as its caller): every table, staged line, output and result in the lake's own bucket.",
  },
  {
    finding:
      /^Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table\/.*LakeDatabase.*\/\*$/,
    reason:
      "The tables of the event lake's own Glue database, which the ETL creates (CREATE TABLE IF NOT EXISTS) and writes (Iceberg commits update the table).",
  },
  {
    finding: /^Resource::.*RawEventsBucket.*\/(raw|quarantine|accounts)\/\*$/,
    reason:
      'Objects under one prefix of the raw events bucket: raw/ (Firehose output), quarantine/, accounts/.',
  },
  {
    finding: /^Resource::arn:<AWS::Partition>:s3:::.*ArtifactsBucket.*\/\*$/,
    reason:
      "The ETL's distributed map writes its per-object results to the artefacts bucket; aws-cdk-lib grants its objects.",
  },
  {
    finding:
      /^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*StateMachine.*:\*$/,
    reason: 'A distributed map starts and reads the child executions of its own state machine.',
  },
  {
    finding:
      /^Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:(training-job|processing-job|hyper-parameter-tuning-job|model|endpoint-config)\/[a-z][a-z0-9-]*-\*$/,
    reason:
      "The pipeline names every job, model and endpoint config it creates <design id>-<uuid> (a tuning job <design id>-<8 hex>, whose trials are training jobs named after it); it may touch no others, and no other design's.",
  },
  {
    finding:
      /^Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:(model-package\/[a-z][a-z0-9-]*-models-.+\/\*|endpoint-config\/\*)$/,
    reason:
      "Versions of the pipeline's own package group; endpoint configs are read to find the serving champion.",
  },
  {
    finding:
      /^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:\/aws\/sagemaker\/TrainingJobs:(log-stream:[a-z][a-z0-9-]*-)?\*$/,
    reason:
      "Training jobs log to the account-wide /aws/sagemaker/TrainingJobs group (a group's ARN ends in :* in a policy), one stream per job named after it: jobs write and the cleanup deletes only this design's streams.",
  },
  {
    finding:
      /^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:\/aws\/sagemaker\/ProcessingJobs:\*$/,
    reason:
      'Processing jobs (baselining, data-quality monitoring) log to the account-wide /aws/sagemaker/ProcessingJobs group, one stream per job; SageMaker names the monitoring runs, so their streams cannot be named ahead.',
  },
  {
    finding: /^Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface\/\*$/,
    reason:
      'SageMaker creates the network interfaces of a training job in the VPC when the job starts; their ids cannot be known before.',
  },
  {
    finding:
      /^Resource::<IngestionDeliveryStream.*RawEventsBucket.*\.Arn>\/\*$|^Resource::<RawEventsBucket[0-9A-F]{8}\.Arn>\/\*$|^Resource::\{"Fn::GetStackOutput":\{.*"OutputName":"[^"]*RawEventsBucket[0-9A-F]{8}Arn[^"]*"\}\}\/\*$/,
    reason:
      "Firehose writes the delivery stream's raw/ and firehose-errors/ prefixes of the raw events bucket (the served lists' stream from the Serving stack, by a cross-stack reference); aws-cdk-lib grants its objects.",
  },
  {
    finding: /^Resource::.*Function[0-9A-F]{8}.*:\*$/,
    reason: 'LambdaInvoke tasks may call the function and its versions (ARN:*), as aws-cdk-lib grants them.',
  },
];
