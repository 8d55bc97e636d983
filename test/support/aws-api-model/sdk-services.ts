/**
 * Maps AWS SDK for JavaScript v3 clients to botocore service names. Both SDKs are generated from
 * the same service models, and a v3 client's `config.serviceId` is the model's `metadata.serviceId`
 * (test/aws-api-model/sdk-services.test.ts checks every entry against the pinned models).
 */
export const BOTOCORE_SERVICE_BY_SERVICE_ID: Readonly<Record<string, string>> = {
  'API Gateway': 'apigateway',
  AppConfigData: 'appconfigdata',
  Athena: 'athena',
  CloudFormation: 'cloudformation',
  CloudWatch: 'cloudwatch',
  'CloudWatch Logs': 'logs',
  Firehose: 'firehose',
  KMS: 'kms',
  Lambda: 'lambda',
  RDS: 'rds',
  'RDS Data': 'rds-data',
  'Resource Groups Tagging API': 'resourcegroupstaggingapi',
  S3: 's3',
  SageMaker: 'sagemaker',
  'SageMaker FeatureStore Runtime': 'sagemaker-featurestore-runtime',
  'SageMaker Runtime': 'sagemaker-runtime',
  'Secrets Manager': 'secretsmanager',
  SFN: 'stepfunctions',
  SNS: 'sns',
};

interface SdkClientLike {
  config?: { serviceId?: unknown };
  send?: unknown;
}
type SdkClientClass = (new (config: object) => SdkClientLike) & { name: string };

const byClass = new WeakMap<object, string>();

/** The SDK `serviceId` of a client class or instance, e.g. 'SageMaker Runtime'. */
export function sdkServiceId(client: object): string {
  if (typeof client !== 'function') {
    const id = (client as SdkClientLike).config?.serviceId;
    if (typeof id === 'string') return id;
    // An instance whose config is not resolved: read it from its class.
    return sdkServiceId((client as object).constructor);
  }
  // The id sits in the resolved config; a throwaway instance resolves it without any I/O
  // (credentials and endpoints are resolved lazily, on the first send).
  const instance = new (client as SdkClientClass)({ region: 'us-east-1' });
  const id = instance.config?.serviceId;
  if (typeof id !== 'string')
    throw new Error(`${(client as SdkClientClass).name} is not an AWS SDK v3 client`);
  return id;
}

/** The botocore name of the service a client class or instance talks to, e.g. 'sagemaker-runtime'. */
export function botocoreServiceOf(client: object): string {
  const key = typeof client === 'function' ? client : (client as object).constructor;
  const cached = byClass.get(key);
  if (cached) return cached;
  const id = sdkServiceId(client);
  const service = BOTOCORE_SERVICE_BY_SERVICE_ID[id];
  if (!service) {
    throw new Error(
      `no pinned API model for the SDK service "${id}": run scripts/update-api-models.sh <botocore name> ` +
        'and map the service id in test/support/aws-api-model/sdk-services.ts',
    );
  }
  byClass.set(key, service);
  return service;
}
