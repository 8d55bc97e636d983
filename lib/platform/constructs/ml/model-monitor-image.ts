import { Aws, CfnMapping, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * The registry account of SageMaker Model Monitor's prebuilt analyzer, `sagemaker-model-monitor-analyzer`,
 * per region. The image is "`<ACCOUNT_ID>.dkr.ecr.<REGION_NAME>.amazonaws.com/sagemaker-model-monitor-analyzer`"
 * (`.amazonaws.com.cn` in China), its accounts listed per region under "Model Monitor (algorithm)" in
 * "Docker Registry Paths and Example Code"
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-built-container.html,
 * https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/sagemaker-algo-docker-registry-paths.html);
 * the same table the SageMaker Python SDK's `image_uris.retrieve('model-monitor', region)` reads
 * (`src/sagemaker/image_uri_config/model-monitor.json`). aws-cdk-lib's region facts have no entry
 * for it, so the table lives here, and the synth needs no lookup.
 */
export const MODEL_MONITOR_ANALYZER_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '875698925577',
  'ap-east-1': '001633400207',
  'ap-northeast-1': '574779866223',
  'ap-northeast-2': '709848358524',
  'ap-south-1': '126357580389',
  'ap-southeast-1': '245545462676',
  'ap-southeast-2': '563025443158',
  'ca-central-1': '536280801234',
  'cn-north-1': '453000072557',
  'cn-northwest-1': '453252182341',
  'eu-central-1': '048819808253',
  'eu-north-1': '895015795356',
  'eu-south-1': '933208885752',
  'eu-west-1': '468650794304',
  'eu-west-2': '749857270468',
  'eu-west-3': '680080141114',
  'me-south-1': '607024016150',
  'sa-east-1': '539772159869',
  'us-east-1': '156813124566',
  'us-east-2': '777275614652',
  'us-west-1': '890145073186',
  'us-west-2': '159807026194',
};

export const MODEL_MONITOR_ANALYZER_REPOSITORY = 'sagemaker-model-monitor-analyzer';

/** The id of the per-stack mapping of region to analyzer account. */
const MAPPING_ID = 'ModelMonitorAnalyzerAccounts';

/**
 * The analyzer image in the stack's region. A concrete region without the image fails the synth;
 * an environment-agnostic stack resolves the account at deploy time from a mapping of every region
 * in the table, and a region missing from it fails the deploy on the mapping, naming the region.
 *
 * The image needs no pull permission: "Pre-built container images are owned by SageMaker AI ...
 * [jobs] use service-owned credentials to pull and run images"
 * (https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/sagemaker-algo-docker-registry-paths.html).
 */
export function modelMonitorAnalyzerImageUri(scope: Construct): string {
  const stack = Stack.of(scope);
  return `${analyzerAccount(stack)}.dkr.ecr.${stack.region}.${stack.urlSuffix}/${MODEL_MONITOR_ANALYZER_REPOSITORY}`;
}

function analyzerAccount(stack: Stack): string {
  if (!Token.isUnresolved(stack.region)) {
    const account = MODEL_MONITOR_ANALYZER_ACCOUNTS[stack.region];
    if (account === undefined) {
      throw new Error(
        `No SageMaker Model Monitor analyzer image is known in ${stack.region} (stack ${stack.node.path}): ` +
          'MODEL_MONITOR_ANALYZER_ACCOUNTS has no entry; see ' +
          'https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/sagemaker-algo-docker-registry-paths.html',
      );
    }
    return account;
  }
  const mapping =
    (stack.node.tryFindChild(MAPPING_ID) as CfnMapping | undefined) ??
    new CfnMapping(stack, MAPPING_ID, {
      mapping: Object.fromEntries(
        Object.entries(MODEL_MONITOR_ANALYZER_ACCOUNTS).map(([region, account]) => [region, { account }]),
      ),
    });
  return mapping.findInMap(Aws.REGION, 'account');
}
