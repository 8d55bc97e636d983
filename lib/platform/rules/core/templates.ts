import * as fs from 'node:fs';
import * as path from 'node:path';

/** A CloudFormation resource as it appears in a synthesized template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<
    string,
    { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }
  >;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Parameters?: Record<string, { readonly Default?: unknown }>;
}

/** One synthesized stack: the name CloudFormation knows it by, where its template is, the template. */
export interface StackTemplate {
  readonly stackName: string;
  readonly templatePath: string;
  readonly template: CfnTemplate;
}

/** A resource of one of the templates. */
export interface ResourceRef {
  readonly stack: StackTemplate;
  readonly logicalId: string;
  readonly resource: CfnResource;
}

/**
 * A value nobody can know at synth: a JSONPath of a state machine, a parameter, a condition. A
 * string that contains it is known only in its other parts.
 */
export const UNKNOWN = '«?»';

/**
 * Markers stand for values CloudFormation decides at deploy time. They hold neither ':' nor '/', so
 * an ARN built around them keeps its shape and can be compared with ARN patterns.
 */
export const REGION = '«Region»';
export const ACCOUNT = '«AccountId»';
const MARKER = /«([a-zA-Z]+)!([^!»]*)!([^!»]*)»/g;

/** The physical name of a resource whose template leaves it to CloudFormation. */
export function nameMarker(stackName: string, logicalId: string): string {
  return `«name!${stackName}!${logicalId}»`;
}

/** The part of a stack's id that is new each time the stack is created. */
export function stackUuidMarker(stackName: string): string {
  return `«uuid!${stackName}!StackId»`;
}

/** The resources a string names through markers, e.g. the bucket of an ARN built from `GetAtt Arn`. */
export function markedResources(value: string): Array<{ stackName: string; logicalId: string }> {
  return [...value.matchAll(MARKER)]
    .filter((m) => m[1] === 'name')
    .map((m) => ({ stackName: m[2], logicalId: m[3] }));
}

export function isKnownString(value: unknown): value is string {
  return typeof value === 'string' && !value.includes(UNKNOWN);
}

/** What `Ref` and `Fn::GetAtt` return for the resource types the rules reason about. */
interface TypeInfo {
  /** The property that sets the physical name; absent means CloudFormation always generates it. */
  readonly nameProperty?: string;
  /** What `Ref` returns. */
  readonly ref: 'arn' | 'name';
  /** Attributes that return the ARN or the name. */
  readonly arnAttributes?: readonly string[];
  readonly nameAttributes?: readonly string[];
  readonly arn?: (name: string) => string;
}

const regional = (service: string, resource: string) => (name: string) =>
  `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}${name}`;

/**
 * Return values from each type's "Return values" section of the CloudFormation template reference,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html
 */
export const RESOURCE_TYPES: Readonly<Record<string, TypeInfo>> = {
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: (n) => `arn:aws:s3:::${n}`,
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    ref: 'arn',
    arnAttributes: ['TopicArn'],
    nameAttributes: ['TopicName'],
    arn: regional('sns', ''),
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: regional('sqs', ''),
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: regional('lambda', 'function:'),
  },
  'AWS::SageMaker::Endpoint': {
    nameProperty: 'EndpointName',
    ref: 'arn',
    nameAttributes: ['EndpointName'],
    arn: regional('sagemaker', 'endpoint/'),
  },
  'AWS::SageMaker::EndpointConfig': {
    nameProperty: 'EndpointConfigName',
    ref: 'arn',
    nameAttributes: ['EndpointConfigName'],
    arn: regional('sagemaker', 'endpoint-config/'),
  },
  'AWS::SageMaker::Model': {
    nameProperty: 'ModelName',
    ref: 'arn',
    nameAttributes: ['ModelName'],
    arn: regional('sagemaker', 'model/'),
  },
  'AWS::SageMaker::ModelPackageGroup': {
    nameProperty: 'ModelPackageGroupName',
    ref: 'arn',
    arnAttributes: ['ModelPackageGroupArn'],
    arn: regional('sagemaker', 'model-package-group/'),
  },
  'AWS::SageMaker::FeatureGroup': {
    nameProperty: 'FeatureGroupName',
    ref: 'name',
    arnAttributes: ['FeatureGroupArn'],
    arn: regional('sagemaker', 'feature-group/'),
  },
  'AWS::KMS::Key': {
    ref: 'name',
    arnAttributes: ['Arn'],
    nameAttributes: ['KeyId'],
    arn: regional('kms', 'key/'),
  },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: (n) => `arn:aws:iam::${ACCOUNT}:role/${n}`,
  },
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    ref: 'arn',
    arn: regional('secretsmanager', 'secret:'),
  },
  'AWS::KinesisFirehose::DeliveryStream': {
    nameProperty: 'DeliveryStreamName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: regional('firehose', 'deliverystream/'),
  },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    ref: 'arn',
    arnAttributes: ['Arn'],
    nameAttributes: ['Name'],
    arn: regional('states', 'stateMachine:'),
  },
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: regional('cloudwatch', 'alarm:'),
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: (n) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}:*`,
  },
  'AWS::RDS::DBCluster': {
    nameProperty: 'DBClusterIdentifier',
    ref: 'name',
    arnAttributes: ['DBClusterArn'],
    arn: regional('rds', 'cluster:'),
  },
  'AWS::RDS::DBInstance': { nameProperty: 'DBInstanceIdentifier', ref: 'name', arn: regional('rds', 'db:') },
  'AWS::ElastiCache::ServerlessCache': {
    nameProperty: 'ServerlessCacheName',
    ref: 'name',
    arnAttributes: ['ARN'],
    arn: regional('elasticache', 'serverlesscache:'),
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: regional('dynamodb', 'table/'),
  },
  'AWS::ECR::Repository': {
    nameProperty: 'RepositoryName',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: regional('ecr', 'repository/'),
  },
  'AWS::Kinesis::Stream': {
    nameProperty: 'Name',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: regional('kinesis', 'stream/'),
  },
  'AWS::KMS::Alias': { nameProperty: 'AliasName', ref: 'name' },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    ref: 'name',
    arnAttributes: ['Arn'],
    arn: regional('events', 'rule/'),
  },
  'AWS::Scheduler::Schedule': { nameProperty: 'Name', ref: 'name', arnAttributes: ['Arn'] },
};

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Every template of one app, with enough of CloudFormation's intrinsic functions evaluated to tell
 * which resource a value names. Values decided at deploy time become markers (see `nameMarker`);
 * values nobody can know become `UNKNOWN`.
 */
export class TemplateSet {
  public readonly stacks: readonly StackTemplate[];

  constructor(stacks: readonly StackTemplate[]) {
    this.stacks = stacks;
  }

  /**
   * Reads synthesized templates. Stack names come from the cloud assembly's manifest.json beside
   * them (cross-stack references name stacks, not files); without one, the file name stands in.
   */
  static fromFiles(templatePaths: readonly string[]): TemplateSet {
    const names = new Map<string, string>();
    for (const dir of new Set(templatePaths.map((p) => path.dirname(p)))) {
      const manifest = path.join(dir, 'manifest.json');
      if (!fs.existsSync(manifest)) continue;
      const artifacts = (JSON.parse(fs.readFileSync(manifest, 'utf8')).artifacts ?? {}) as Record<
        string,
        { type?: string; properties?: { templateFile?: string; stackName?: string } }
      >;
      for (const [id, artifact] of Object.entries(artifacts)) {
        if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
        names.set(path.join(dir, artifact.properties.templateFile), artifact.properties.stackName ?? id);
      }
    }
    return new TemplateSet(
      templatePaths.map((templatePath) => ({
        stackName: names.get(templatePath) ?? path.basename(templatePath).replace(/\.template\.json$/, ''),
        templatePath,
        template: JSON.parse(fs.readFileSync(templatePath, 'utf8')) as CfnTemplate,
      })),
    );
  }

  stack(stackName: string): StackTemplate | undefined {
    return this.stacks.find((s) => s.stackName === stackName);
  }

  /** Every resource of every template, optionally only those of some types. */
  resources(...types: string[]): ResourceRef[] {
    return this.stacks.flatMap((stack) =>
      Object.entries(stack.template.Resources ?? {})
        .filter(([, resource]) => types.length === 0 || types.includes(resource.Type))
        .map(([logicalId, resource]) => ({ stack, logicalId, resource })),
    );
  }

  resource(stackName: string, logicalId: string): ResourceRef | undefined {
    const stack = this.stack(stackName);
    const resource = stack?.template.Resources?.[logicalId];
    return stack && resource ? { stack, logicalId, resource } : undefined;
  }

  /** The physical name of a resource: its name property when the template sets one, else a marker. */
  physicalName(ref: ResourceRef): string {
    const nameProperty = RESOURCE_TYPES[ref.resource.Type]?.nameProperty;
    const explicit = nameProperty ? ref.resource.Properties?.[nameProperty] : undefined;
    if (explicit !== undefined) {
      const resolved = this.resolve(ref.stack, explicit);
      if (typeof resolved === 'string') return resolved;
    }
    return nameMarker(ref.stack.stackName, ref.logicalId);
  }

  /** The ARN of a resource, built from its physical name; undefined for types without an ARN rule. */
  arnOf(ref: ResourceRef): string | undefined {
    return RESOURCE_TYPES[ref.resource.Type]?.arn?.(this.physicalName(ref));
  }

  /**
   * Which resource a resolved string names, for the given types: a marker of one, its literal
   * physical name, or its ARN.
   */
  resourceNamedBy(value: unknown, ...types: string[]): ResourceRef | undefined {
    if (typeof value !== 'string' || value.includes(UNKNOWN)) return undefined;
    const candidates = this.resources(...types);
    return candidates.find((c) => {
      const name = this.physicalName(c);
      return value === name || value === this.arnOf(c);
    });
  }

  /**
   * Evaluates the intrinsic functions of `value` in the context of `stack`. Objects and arrays are
   * resolved member by member; strings come back with markers where CloudFormation decides.
   */
  resolve(stack: StackTemplate, value: unknown, depth = 0): unknown {
    if (depth > 50) return UNKNOWN;
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v, depth + 1));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0];
      const evaluated = this.intrinsic(stack, fn, arg, depth + 1);
      if (evaluated !== NOT_INTRINSIC) return evaluated;
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stack, v, depth + 1)]));
  }

  /** `resolve`, then any non-string (an unevaluated function, a list) as `UNKNOWN`. */
  resolveString(stack: StackTemplate, value: unknown): string {
    const resolved = this.resolve(stack, value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    return UNKNOWN;
  }

  private intrinsic(stack: StackTemplate, fn: string, arg: unknown, depth: number): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(stack, String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
        return this.getAtt(stack, logicalId, attribute);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown];
        const resolved = this.resolve(stack, parts, depth);
        if (!Array.isArray(resolved)) return UNKNOWN;
        return resolved
          .map((p) => (typeof p === 'string' || typeof p === 'number' ? p : UNKNOWN))
          .join(separator);
      }
      case 'Fn::Sub':
        return this.sub(stack, arg, depth);
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const resolvedList = this.resolve(stack, list, depth);
        const i = Number(this.resolve(stack, index, depth));
        return Array.isArray(resolvedList) && Number.isInteger(i) && i < resolvedList.length
          ? resolvedList[i]
          : UNKNOWN;
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        const resolved = this.resolve(stack, source, depth);
        return typeof resolved === 'string' ? resolved.split(separator) : UNKNOWN;
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = arg as { StackName: unknown; OutputName: unknown };
        return this.output(String(this.resolve(stack, StackName, depth)), String(OutputName), depth);
      }
      case 'Fn::ImportValue': {
        const exportName = this.resolve(stack, arg, depth);
        for (const other of this.stacks) {
          for (const output of Object.values(other.template.Outputs ?? {})) {
            if (output.Export && this.resolve(other, output.Export.Name, depth) === exportName) {
              return this.resolve(other, output.Value, depth);
            }
          }
        }
        return UNKNOWN;
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as unknown[]).map((a) => this.resolve(stack, a, depth));
        const found = stack.template.Mappings?.[String(map)]?.[String(top)]?.[String(second)];
        return found === undefined ? UNKNOWN : found;
      }
      case 'Fn::If':
      case 'Fn::GetAZs':
      case 'Fn::Base64':
      case 'Fn::Cidr':
      case 'Fn::Length':
      case 'Fn::ToJsonString':
      case 'Fn::Transform':
        return UNKNOWN;
      default:
        return NOT_INTRINSIC;
    }
  }

  private output(stackName: string, outputName: string, depth: number): unknown {
    const other = this.stack(stackName);
    const output = other?.template.Outputs?.[outputName];
    return other && output ? this.resolve(other, output.Value, depth) : UNKNOWN;
  }

  private ref(stack: StackTemplate, name: string): unknown {
    switch (name) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::Region':
        return REGION;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::StackName':
        return stack.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stack.stackName}/${stackUuidMarker(stack.stackName)}`;
      case 'AWS::NoValue':
        return undefined;
    }
    const resource = stack.template.Resources?.[name];
    if (!resource) return UNKNOWN;
    const ref = { stack, logicalId: name, resource };
    if (resource.Type === 'AWS::SecretsManager::SecretTargetAttachment') {
      // Ref returns the ARN of the secret it attaches.
      return this.resolve(stack, resource.Properties?.SecretId);
    }
    const info = RESOURCE_TYPES[resource.Type];
    if (!info) return `«ref!${stack.stackName}!${name}»`;
    return info.ref === 'arn' ? (this.arnOf(ref) ?? UNKNOWN) : this.physicalName(ref);
  }

  private getAtt(stack: StackTemplate, logicalId: string, attribute: string): unknown {
    const resource = stack.template.Resources?.[logicalId];
    if (!resource) return UNKNOWN;
    const ref = { stack, logicalId, resource };
    const info = RESOURCE_TYPES[resource.Type];
    if (info?.arnAttributes?.includes(attribute)) return this.arnOf(ref) ?? UNKNOWN;
    if (info?.nameAttributes?.includes(attribute)) return this.physicalName(ref);
    return `«att!${stack.stackName}!${logicalId}.${attribute}»`;
  }

  private sub(stack: StackTemplate, arg: unknown, depth: number): unknown {
    const [text, variables] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, expression: string) => {
      const value =
        expression in variables
          ? this.resolve(stack, variables[expression], depth)
          : expression.includes('.')
            ? this.getAtt(stack, ...(expression.split(/\.(.*)/s) as [string, string]))
            : this.ref(stack, expression);
      return typeof value === 'string' || typeof value === 'number' ? String(value) : UNKNOWN;
    });
  }
}

const NOT_INTRINSIC = Symbol('not an intrinsic function');

/** A JSON path of a value inside a template, as CDK's policy-validation report prints it. */
export function location(...parts: Array<string | number>): string {
  return parts.join('/');
}

export { asArray };
