/**
 * List prices in us-east-1 (US East, N. Virginia), in USD, as of December 2026: what
 * `npm run cost` multiplies the synthesized templates by. Each price names the AWS pricing page it
 * comes from. SageMaker instance prices live in ./sagemaker-instances.ts, the one list of them.
 *
 * How each figure was checked: looked up on its pricing page (or a page quoting it) through a
 * search of stored public pages in December 2026. `unconfirmed` marks the few the search could not
 * show on a page; those are the page's figures as last read, to be checked by hand before relying
 * on them. Prices change: update the figure and PRICES_AS_OF together, then regenerate the
 * README's cost tables (`npm run cost -- --markdown`).
 *
 * Free tiers are not subtracted anywhere: the 12-month ones end, and the always-free ones (10
 * alarm metrics, 3 dashboards, 1 million Lambda requests...) are shared by everything in the
 * account. The estimate names them in notes instead.
 */

/** The month the figures were read. */
export const PRICES_AS_OF = '2026-12';
export const PRICES_REGION = 'us-east-1';
/** Hours in the average month, as AWS's own calculators count them. */
export const HOURS_PER_MONTH = 730;

export interface Price {
  /** US dollars per `unit`. */
  readonly usd: number;
  /** What one `usd` buys, e.g. `AZ-hour`, `GB-month`, `million requests`. */
  readonly unit: string;
  /** The pricing page, aws.amazon.com/<service>/pricing. */
  readonly source: string;
  /** The search did not show this figure on a page; it is the page's figure as last read. */
  readonly unconfirmed?: true;
  readonly note?: string;
}

const page = (service: string) => `https://aws.amazon.com/${service}/pricing/`;

export const PRICES = {
  // --- Networking ---
  interfaceEndpointAzHour: {
    usd: 0.01,
    unit: 'AZ-hour',
    source: page('privatelink'),
    note: 'each interface endpoint bills per hour in each AZ it has a subnet in; gateway endpoints (S3, DynamoDB) are free',
  },
  interfaceEndpointGb: { usd: 0.01, unit: 'GB processed', source: page('privatelink') },
  vendedLogsGb: {
    usd: 0.5,
    unit: 'GB of flow logs delivered to CloudWatch Logs',
    source: page('cloudwatch'),
    unconfirmed: true,
  },

  // --- Data ---
  valkeyServerlessGbHour: {
    usd: 0.084,
    unit: 'GB-hour',
    source: page('elasticache'),
    note: 'ElastiCache Serverless for Valkey meters at least 100 MB per cache',
  },
  valkeyServerlessMinGb: { usd: 0.1, unit: 'GB (metered minimum)', source: page('elasticache') },
  valkeyServerlessMillionEcpu: { usd: 0.0023, unit: 'million ECPUs', source: page('elasticache') },
  redisServerlessGbHour: {
    usd: 0.125,
    unit: 'GB-hour',
    source: page('elasticache'),
    note: 'ElastiCache Serverless for Redis OSS and Memcached meters at least 1 GB per cache',
  },
  redisServerlessMinGb: { usd: 1, unit: 'GB (metered minimum)', source: page('elasticache') },
  redisServerlessMillionEcpu: { usd: 0.0034, unit: 'million ECPUs', source: page('elasticache') },
  auroraServerlessV2AcuHour: {
    usd: 0.12,
    unit: 'ACU-hour',
    source: 'https://aws.amazon.com/rds/aurora/pricing/',
    note: 'Aurora Standard storage configuration; billed per second for each instance (writer and readers)',
  },
  auroraStorageGbMonth: {
    usd: 0.1,
    unit: 'GB-month',
    source: 'https://aws.amazon.com/rds/aurora/pricing/',
    note: 'backups up to the cluster size within the retention period are free',
  },
  auroraMillionIo: {
    usd: 0.2,
    unit: 'million I/O requests',
    source: 'https://aws.amazon.com/rds/aurora/pricing/',
    unconfirmed: true,
  },
  rdsDataApiMillionRequests: {
    usd: 0.35,
    unit: 'million Data API requests',
    source: 'https://aws.amazon.com/rds/aurora/pricing/',
    unconfirmed: true,
  },
  s3StandardGbMonth: { usd: 0.023, unit: 'GB-month', source: page('s3'), note: 'S3 Standard, first 50 TB' },
  s3ThousandPuts: { usd: 0.005, unit: '1,000 PUT, COPY, POST or LIST requests', source: page('s3') },
  s3ThousandGets: { usd: 0.0004, unit: '1,000 GET requests', source: page('s3') },
  firehoseGb: {
    usd: 0.029,
    unit: 'GB ingested (records rounded up to 5 KB)',
    source: 'https://aws.amazon.com/firehose/pricing/',
    unconfirmed: true,
    note: 'Direct PUT, first 500 TB a month; the search showed the 5 KB rounding, not the figure',
  },
  athenaTbScanned: {
    usd: 5,
    unit: 'TB scanned (at least 10 MB per query)',
    source: page('athena'),
  },
  glueCatalogHundredThousandObjects: {
    usd: 1,
    unit: '100,000 Data Catalog objects a month above the first million (free)',
    source: page('glue'),
  },
  featureStoreMillionWriteUnits: {
    usd: 1.25,
    unit: 'million write request units (1 KB each)',
    source: page('sagemaker'),
    unconfirmed: true,
  },
  featureStoreMillionReadUnits: {
    usd: 0.25,
    unit: 'million read request units (4 KB each)',
    source: page('sagemaker'),
    unconfirmed: true,
  },
  featureStoreOnlineGbMonth: {
    usd: 0.45,
    unit: 'GB-month of online (standard tier) storage',
    source: page('sagemaker'),
    unconfirmed: true,
  },

  // --- Security ---
  kmsKeyMonth: {
    usd: 1,
    unit: 'key-month',
    source: page('kms'),
    note: 'automatic rotation adds $1 a month for each of the first two rotations (years 2 and 3)',
  },
  kmsTenThousandRequests: { usd: 0.03, unit: '10,000 requests (20,000 free a month)', source: page('kms') },
  secretMonth: { usd: 0.4, unit: 'secret-month', source: page('secrets-manager') },
  secretsTenThousandCalls: { usd: 0.05, unit: '10,000 API calls', source: page('secrets-manager') },

  // --- Monitoring ---
  alarmMetricMonth: {
    usd: 0.1,
    unit: 'standard-resolution alarm metric-month',
    source: page('cloudwatch'),
    note: 'an alarm on metric math counts each metric it reads; the first 10 alarm metrics of the account are free',
  },
  highResolutionAlarmMetricMonth: {
    usd: 0.3,
    unit: 'high-resolution (10 or 30 s) alarm metric-month',
    source: page('cloudwatch'),
  },
  compositeAlarmMonth: { usd: 0.5, unit: 'composite alarm-month', source: page('cloudwatch') },
  dashboardMonth: {
    usd: 3,
    unit: 'dashboard-month',
    source: page('cloudwatch'),
    note: 'the first 3 dashboards of the account (up to 50 metrics each) are free',
  },
  customMetricMonth: {
    usd: 0.3,
    unit: 'custom metric-month (billed for the hours it is published)',
    source: page('cloudwatch'),
    unconfirmed: true,
  },
  logsIngestedGb: { usd: 0.5, unit: 'GB ingested', source: page('cloudwatch'), unconfirmed: true },
  logsStoredGbMonth: { usd: 0.03, unit: 'GB-month stored', source: page('cloudwatch'), unconfirmed: true },
  xrayMillionTraces: {
    usd: 5,
    unit: 'million traces recorded (100,000 free a month)',
    source: page('xray'),
    unconfirmed: true,
  },

  // --- Compute and integration ---
  lambdaMillionRequests: { usd: 0.2, unit: 'million requests', source: page('lambda') },
  lambdaX86GbSecond: { usd: 0.0000166667, unit: 'GB-second (x86)', source: page('lambda') },
  lambdaArmGbSecond: { usd: 0.0000133334, unit: 'GB-second (Arm)', source: page('lambda') },
  restApiMillionRequests: {
    usd: 3.5,
    unit: 'million REST API requests (first 333 million a month)',
    source: page('api-gateway'),
  },
  stepFunctionsThousandTransitions: {
    usd: 0.025,
    unit: '1,000 state transitions (Standard workflows; 4,000 free a month)',
    source: page('step-functions'),
  },
  stepFunctionsExpressMillionRequests: {
    usd: 1,
    unit: 'million Express workflow requests',
    source: page('step-functions'),
  },
  snsMillionPublishes: { usd: 0.5, unit: 'million publishes (standard topics)', source: page('sns') },
  schedulerMillionInvocations: {
    usd: 1,
    unit: 'million scheduled invocations (14 million free a month)',
    source: page('eventbridge'),
    unconfirmed: true,
  },
  appConfigMillionRequests: {
    usd: 0.2,
    unit: 'million configuration requests',
    source: page('systems-manager'),
    unconfirmed: true,
  },
  appConfigThousandReceived: {
    usd: 0.8,
    unit: '1,000 configurations received',
    source: page('systems-manager'),
    unconfirmed: true,
    note: 'an unchanged configuration polled again is not received again',
  },

  // --- SageMaker, beyond instance hours ---
  serverlessInferenceGbSecond: {
    usd: 0.00002,
    unit: 'GB-second of serverless inference (memory size x run time)',
    source: page('sagemaker'),
    unconfirmed: true,
    note: '$0.0000200 a second at 1024 MB, proportional to the memory size',
  },
  inferenceDataGb: {
    usd: 0.016,
    unit: 'GB of inference data in or out',
    source: page('sagemaker'),
  },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;
