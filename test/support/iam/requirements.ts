import {
  actionMatches,
  allows,
  roleOf,
  roleStatements,
  type ResolvedStatement,
} from '../../../lib/platform/rules/core/iam';
import { stateMachines, type TaskCall } from '../../../lib/platform/rules/core/state-machines';
import {
  ACCOUNT,
  REGION,
  UNKNOWN,
  type ResourceRef,
  type TemplateSet,
} from '../../../lib/platform/rules/core/templates';
import {
  KINDS,
  KMS_TO_PUBLISH,
  KMS_TO_READ,
  KMS_TO_UPLOAD_IN_PARTS,
  KMS_TO_WRITE,
  needsOfSdkValue,
  type CallNeed,
} from './actions';
import { sdkImportsOfHandler } from './source-closure';

/** The metadata key a BundledFunction writes on its `AWS::Lambda::Function`: the handler's folder. */
export const HANDLER_METADATA = 'blueprint:handler';

/** A permission the code needs and its role lacks. */
export interface MissingPermission {
  /** The function or state machine. */
  readonly principal: ResourceRef;
  readonly role?: ResourceRef;
  readonly action: string;
  /** The resource, resolved (markers stand for deploy-time names). */
  readonly resource: string;
  /** Which code or state makes the call. */
  readonly why: string;
}

/** One need of one principal, before it is checked against the role. */
interface Need extends CallNeed {
  readonly why: string;
}

/** The functions of the app built from `lambda/<folder>/handler.ts`, with their folder. */
export function bundledFunctions(set: TemplateSet): Array<{ fn: ResourceRef; handlerFolder: string }> {
  return set
    .resources('AWS::Lambda::Function')
    .map((fn) => ({ fn, handlerFolder: fn.resource.Metadata?.[HANDLER_METADATA] }))
    .filter((f): f is { fn: ResourceRef; handlerFolder: string } => typeof f.handlerFolder === 'string');
}

/** What the handler's source closure calls, as IAM needs. */
export function needsOfHandler(handlerFolder: string, lambdaRoot?: string): Need[] {
  return sdkImportsOfHandler(handlerFolder, lambdaRoot).flatMap((imported) =>
    needsOfSdkValue(imported.module, imported.name).map((need) => ({
      ...need,
      why: `${imported.name} (${imported.module}) in ${imported.file}`,
    })),
  );
}

/**
 * Checks a function's role against what its handler calls. The resource of a call is decided at run
 * time (an environment variable, the event), so each action must be allowed on a resource of the
 * right kind; then, for every resource the role is granted that action on, the KMS actions on the
 * key that encrypts it.
 */
export function missingForFunction(
  set: TemplateSet,
  fn: ResourceRef,
  handlerFolder: string,
  lambdaRoot?: string,
): MissingPermission[] {
  const role = roleOf(set, fn);
  const needs = needsOfHandler(handlerFolder, lambdaRoot);
  if (!role)
    return needs.map((n) => ({
      principal: fn,
      action: n.action,
      resource: n.resource,
      why: `${n.why}: no role found`,
    }));
  const statements = roleStatements(set, role);
  const missing: MissingPermission[] = [];
  for (const need of needs) {
    if (!allows(statements, need.action, need.resource)) {
      missing.push({ principal: fn, role, action: need.action, resource: need.resource, why: need.why });
      continue;
    }
    if (!need.kms) continue;
    for (const target of grantedTargets(statements, need.action, need.resource)) {
      const key = keyOf(set, target);
      if (!key) continue;
      for (const kmsAction of need.kms) {
        if (!allows(statements, kmsAction, key)) {
          missing.push({
            principal: fn,
            role,
            action: kmsAction,
            resource: key,
            why: `${need.why}: ${need.action} on ${target}, encrypted with that key`,
          });
        }
      }
    }
  }
  return dedupe(missing);
}

/** The resources a role is granted an action on, among those of the kind the code needs. */
function grantedTargets(statements: readonly ResolvedStatement[], action: string, kind: string): string[] {
  const targets = new Set<string>();
  for (const s of statements) {
    if (s.effect !== 'Allow') continue;
    if (!s.actions.some((a) => actionMatches(a, action))) continue;
    for (const r of s.resources)
      if (r !== '*' && allows([{ ...s, resources: [r] }], action, kind)) targets.add(r);
  }
  return [...targets];
}

/**
 * The ARN of the customer managed key that encrypts a resource the code reaches, when the app
 * defines both: a bucket's default SSE-KMS key, a topic's KmsMasterKeyId, a secret's KmsKeyId, a
 * feature group's online store key.
 */
export function keyOf(set: TemplateSet, resourceArn: string): string | undefined {
  let key: unknown;
  const s3 = /^arn:aws:s3:::([^/*]+)/.exec(resourceArn);
  if (s3) {
    const bucket = set.resourceNamedBy(s3[1], 'AWS::S3::Bucket');
    const rules = (
      bucket?.resource.Properties?.BucketEncryption as { ServerSideEncryptionConfiguration?: unknown[] }
    )?.ServerSideEncryptionConfiguration;
    const byDefault = (rules?.[0] as { ServerSideEncryptionByDefault?: Record<string, unknown> })
      ?.ServerSideEncryptionByDefault;
    if (bucket && byDefault && String(byDefault.SSEAlgorithm).startsWith('aws:kms')) {
      key = set.resolve(bucket.stack, byDefault.KMSMasterKeyID);
    }
  }
  const owner =
    set.resourceNamedBy(resourceArn, 'AWS::SNS::Topic') ??
    set.resourceNamedBy(resourceArn, 'AWS::SecretsManager::Secret') ??
    set.resourceNamedBy(resourceArn, 'AWS::SageMaker::FeatureGroup');
  if (owner) {
    const props = owner.resource.Properties ?? {};
    const raw =
      owner.resource.Type === 'AWS::SNS::Topic'
        ? props.KmsMasterKeyId
        : owner.resource.Type === 'AWS::SecretsManager::Secret'
          ? props.KmsKeyId
          : (props.OnlineStoreConfig as { SecurityConfig?: { KmsKeyId?: unknown } } | undefined)
              ?.SecurityConfig?.KmsKeyId;
    key = set.resolve(owner.stack, raw);
  }
  const keyRef = set.resourceNamedBy(key, 'AWS::KMS::Key');
  return keyRef ? set.arnOf(keyRef) : undefined;
}

const SAGEMAKER = (resource: string, name: unknown) =>
  `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${resource}/${typeof name === 'string' ? name : UNKNOWN}`;

/**
 * The IAM a state machine's call needs, per the Step Functions integration docs:
 * - AWS SDK integrations, https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html:
 *   `aws-sdk:<service>:<operation>` needs `<service>:<Operation>`.
 * - SageMaker, https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html: CreateTrainingJob
 *   `.sync` needs sagemaker:CreateTrainingJob, DescribeTrainingJob, StopTrainingJob, and events:PutTargets,
 *   PutRule, DescribeRule on rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule; iam:PassRole on
 *   the role it passes.
 * - SNS, https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html: sns:Publish on the topic.
 * - Lambda, https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html: lambda:InvokeFunction.
 * - Distributed map, https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html:
 *   writing results needs s3:PutObject, s3:GetObject, s3:ListMultipartUploadParts,
 *   s3:AbortMultipartUpload (and the KMS actions of an encrypted bucket); reading a listing,
 *   s3:ListBucket (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html).
 * KMS for encrypted topics and buckets as for functions (see `actions.ts`).
 */
export function needsOfCall(set: TemplateSet, call: TaskCall): Need[] {
  const p = call.parameters;
  const why = `state ${call.state}`;
  const needs: Need[] = [];
  const add = (action: string, resource: string, kms?: readonly string[]) =>
    needs.push({ action, resource, kms, why });
  const object = (bucket: unknown, key: unknown) =>
    `arn:aws:s3:::${typeof bucket === 'string' ? bucket : UNKNOWN}/${typeof key === 'string' ? key : UNKNOWN}`;
  const integration = call.integration;
  if (integration.kind === 'function') {
    add('lambda:InvokeFunction', integration.functionArn);
    return needs;
  }
  if (integration.kind === 'other') return needs;
  const { service, operation } = integration;
  const op = operation.toLowerCase();
  for (const roleParam of ['RoleArn', 'ExecutionRoleArn']) {
    if (typeof p[roleParam] === 'string') add('iam:PassRole', p[roleParam] as string);
  }
  if (service === 'lambda' && op === 'invoke') {
    const fn = p.FunctionName;
    const named = set.resourceNamedBy(fn, 'AWS::Lambda::Function');
    add(
      'lambda:InvokeFunction',
      named ? set.arnOf(named)! : typeof fn === 'string' && fn.startsWith('arn:') ? fn : KINDS.function,
    );
  } else if (service === 'sns' && op === 'publish') {
    add('sns:Publish', typeof p.TopicArn === 'string' ? p.TopicArn : KINDS.topic, KMS_TO_PUBLISH);
  } else if (service === 's3' && op === 'putobject' && call.state.endsWith('.ResultWriter')) {
    const target = object(p.Bucket, `${typeof p.Prefix === 'string' ? p.Prefix : UNKNOWN}${UNKNOWN}`);
    add('s3:PutObject', target, KMS_TO_UPLOAD_IN_PARTS);
    add('s3:GetObject', target);
    add('s3:ListMultipartUploadParts', target);
    add('s3:AbortMultipartUpload', target);
  } else if (service === 's3' && op === 'putobject') {
    add('s3:PutObject', object(p.Bucket, p.Key), KMS_TO_WRITE);
  } else if (service === 's3' && op === 'getobject') {
    add('s3:GetObject', object(p.Bucket, p.Key), KMS_TO_READ);
  } else if (service === 's3' && op === 'listobjectsv2') {
    add('s3:ListBucket', `arn:aws:s3:::${typeof p.Bucket === 'string' ? p.Bucket : UNKNOWN}`);
  } else if (service === 'sagemaker' && op === 'createtrainingjob') {
    const job = SAGEMAKER('training-job', p.TrainingJobName);
    add('sagemaker:CreateTrainingJob', job);
    if (integration.pattern === 'sync') {
      add('sagemaker:DescribeTrainingJob', job);
      add('sagemaker:StopTrainingJob', job);
      const rule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule`;
      for (const a of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) add(a, rule);
    }
  } else if (service === 'sagemaker' && op === 'createhyperparametertuningjob') {
    // The same page: CreateHyperParameterTuningJob `.sync` needs Create, Describe and Stop
    // HyperParameterTuningJob and the events rule StepFunctionsGetEventsForSageMakerTuningJobsRule;
    // the role it passes is the training job definition's.
    const job = SAGEMAKER('hyper-parameter-tuning-job', p.HyperParameterTuningJobName);
    add('sagemaker:CreateHyperParameterTuningJob', job);
    const definition = p.TrainingJobDefinition as Record<string, unknown> | undefined;
    if (typeof definition?.RoleArn === 'string') add('iam:PassRole', definition.RoleArn);
    if (integration.pattern === 'sync') {
      add('sagemaker:DescribeHyperParameterTuningJob', job);
      add('sagemaker:StopHyperParameterTuningJob', job);
      const rule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForSageMakerTuningJobsRule`;
      for (const a of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) add(a, rule);
    }
  } else if (service === 'sagemaker') {
    for (const [action, resource] of sagemakerResources(op, p)) add(action, resource);
  } else {
    add(`${iamPrefix(service)}:${operation[0].toUpperCase()}${operation.slice(1)}`, KINDS.any);
  }
  return needs;
}

/** SageMaker operations and the resources the Service Authorization Reference lists for them. */
function sagemakerResources(op: string, p: Record<string, unknown>): Array<[string, string]> {
  switch (op) {
    case 'createmodel':
      return [['sagemaker:CreateModel', SAGEMAKER('model', p.ModelName)]];
    case 'describetrainingjob':
      return [['sagemaker:DescribeTrainingJob', SAGEMAKER('training-job', p.TrainingJobName)]];
    case 'createendpointconfig':
      return [['sagemaker:CreateEndpointConfig', SAGEMAKER('endpoint-config', p.EndpointConfigName)]];
    case 'describeendpointconfig':
      return [['sagemaker:DescribeEndpointConfig', SAGEMAKER('endpoint-config', p.EndpointConfigName)]];
    case 'describeendpoint':
      return [['sagemaker:DescribeEndpoint', endpointArn(p.EndpointName)]];
    case 'createendpoint':
    case 'updateendpoint': {
      // The request is authorized on the endpoint and on the config it deploys (aws/aws-cdk#11594).
      const action = op === 'createendpoint' ? 'sagemaker:CreateEndpoint' : 'sagemaker:UpdateEndpoint';
      return [
        [action, endpointArn(p.EndpointName)],
        [action, SAGEMAKER('endpoint-config', p.EndpointConfigName)],
      ];
    }
    case 'createmodelpackage':
      return [
        [
          'sagemaker:CreateModelPackage',
          SAGEMAKER(
            'model-package',
            `${typeof p.ModelPackageGroupName === 'string' ? p.ModelPackageGroupName : UNKNOWN}/${UNKNOWN}`,
          ),
        ],
      ];
    default:
      return [[`sagemaker:${op}`, KINDS.any]];
  }
}

function endpointArn(name: unknown): string {
  return SAGEMAKER('endpoint', name);
}

/** AWS SDK integration service names that differ from their IAM prefix. */
function iamPrefix(service: string): string {
  return (
    (
      {
        sfn: 'states',
        cloudwatchlogs: 'logs',
        sagemakerruntime: 'sagemaker',
        sagemakerfeaturestoreruntime: 'sagemaker',
        eventbridge: 'events',
      } as Record<string, string>
    )[service] ?? service
  );
}

/** Checks every call of every state machine against the machine's role. */
export function missingForStateMachines(set: TemplateSet): MissingPermission[] {
  const missing: MissingPermission[] = [];
  for (const machine of stateMachines(set)) {
    const role = roleOf(set, machine.ref);
    const statements = role ? roleStatements(set, role) : [];
    for (const call of machine.calls) {
      for (const need of needsOfCall(set, call)) {
        if (!allows(statements, need.action, need.resource)) {
          missing.push({
            principal: machine.ref,
            role,
            action: need.action,
            resource: need.resource,
            why: need.why,
          });
        }
        const key = need.kms ? keyOf(set, need.resource) : undefined;
        for (const kmsAction of key ? need.kms! : []) {
          if (!allows(statements, kmsAction, key!)) {
            missing.push({
              principal: machine.ref,
              role,
              action: kmsAction,
              resource: key!,
              why: `${need.why}: ${need.action} on ${need.resource}, encrypted with that key`,
            });
          }
        }
      }
    }
  }
  return dedupe(missing);
}

function dedupe(missing: MissingPermission[]): MissingPermission[] {
  const seen = new Map<string, MissingPermission>();
  for (const m of missing) {
    const key = `${m.principal.stack.stackName}/${m.principal.logicalId}|${m.action}|${m.resource}`;
    if (!seen.has(key)) seen.set(key, m);
  }
  return [...seen.values()];
}
