/**
 * Resolves CloudFormation intrinsics in a synthesized template to the values a deployment in
 * us-east-1, account 123456789012 would produce: names shaped like CloudFormation's generated
 * names, ARNs shaped like real ones, so that requests built from them still pass the API models'
 * patterns. Values are deterministic (a hash of stack and logical id), so tests can compare them.
 */
import { createHash } from 'node:crypto';
import type { CfnResource, CfnTemplate } from '../../../lib/platform/rules/core/templates';

export type { CfnResource, CfnTemplate } from '../../../lib/platform/rules/core/templates';

export const FAKE_REGION = 'us-east-1';
export const FAKE_ACCOUNT = '123456789012';
export const FAKE_PARTITION = 'aws';

export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: CfnTemplate;
}

const PSEUDO: Record<string, (stack: SynthesizedStack) => string> = {
  'AWS::Partition': () => FAKE_PARTITION,
  'AWS::Region': () => FAKE_REGION,
  'AWS::AccountId': () => FAKE_ACCOUNT,
  'AWS::URLSuffix': () => 'amazonaws.com',
  'AWS::StackName': (stack) => stack.stackName,
  'AWS::StackId': (stack) =>
    `arn:aws:cloudformation:${FAKE_REGION}:${FAKE_ACCOUNT}:stack/${stack.stackName}/${uuid(stack.stackName)}`,
  'AWS::NoValue': () => {
    throw new Error('AWS::NoValue is only valid as a property value');
  },
};

/** Resolves intrinsics across every stack of one cloud assembly (cross-stack references included). */
export class CfnResolver {
  private readonly byName: Map<string, SynthesizedStack>;

  constructor(stacks: readonly SynthesizedStack[]) {
    this.byName = new Map(stacks.map((stack) => [stack.stackName, stack]));
  }

  /** `value` with every intrinsic of `stack` replaced by its fake deployed value. */
  public resolve(value: unknown, stack: SynthesizedStack): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item, stack));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
      return this.intrinsic(entries[0][0], entries[0][1], stack);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item, stack)]));
  }

  /** The resolved value as a string; intrinsics that resolve to lists are an error here. */
  public resolveString(value: unknown, stack: SynthesizedStack): string {
    const resolved = this.resolve(value, stack);
    if (typeof resolved !== 'string') {
      throw new Error(`${JSON.stringify(value)} resolves to ${JSON.stringify(resolved)}, not a string`);
    }
    return resolved;
  }

  private intrinsic(name: string, args: unknown, stack: SynthesizedStack): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(String(args), stack);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(args) ? args : String(args).split(/\.(.+)/);
        return this.getAtt(String(logicalId), String(this.resolve(attribute, stack)), stack);
      }
      case 'Fn::Join': {
        const [separator, parts] = args as [string, unknown];
        const list = this.resolve(parts, stack);
        if (!Array.isArray(list)) throw new Error(`Fn::Join of ${JSON.stringify(parts)}`);
        return list.map((part) => this.asString(part, 'Fn::Join')).join(separator);
      }
      case 'Fn::Sub':
        return this.sub(args, stack);
      case 'Fn::FindInMap': {
        const [map, first, second] = (args as unknown[]).map((arg) => this.resolve(arg, stack));
        const found = stack.template.Mappings?.[String(map)]?.[String(first)]?.[String(second)];
        if (found === undefined) throw new Error(`${stack.stackName}: no mapping ${map}.${first}.${second}`);
        return found;
      }
      case 'Fn::Select': {
        const [index, list] = args as [unknown, unknown];
        const items = this.resolve(list, stack);
        const at = Number(this.resolve(index, stack));
        if (!Array.isArray(items) || at >= items.length)
          throw new Error(`Fn::Select ${at} of ${JSON.stringify(items)}`);
        return items[at];
      }
      case 'Fn::Split': {
        const [separator, source] = args as [string, unknown];
        return this.resolveString(source, stack).split(separator);
      }
      case 'Fn::GetStackOutput': {
        // Cross-stack references of recent CDK versions: the output of another stack, read at deploy time.
        const { StackName, OutputName } = args as { StackName: unknown; OutputName: unknown };
        const other = this.stack(this.resolveString(StackName, stack));
        return this.output(other, this.resolveString(OutputName, stack));
      }
      case 'Fn::ImportValue': {
        const exportName = this.resolveString(args, stack);
        for (const other of this.byName.values()) {
          for (const [outputName, output] of Object.entries(other.template.Outputs ?? {})) {
            if (output.Export && this.resolve(output.Export.Name, other) === exportName) {
              return this.output(other, outputName);
            }
          }
        }
        throw new Error(`no stack exports ${exportName}`);
      }
      default:
        throw new Error(`${stack.stackName}: the harness does not resolve ${name}`);
    }
  }

  private asString(value: unknown, where: string): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new Error(`${where}: ${JSON.stringify(value)} is not a string`);
  }

  private stack(stackName: string): SynthesizedStack {
    const found = this.byName.get(stackName);
    if (!found) throw new Error(`no stack named ${stackName} in the assembly`);
    return found;
  }

  private output(stack: SynthesizedStack, outputName: string): unknown {
    const output = stack.template.Outputs?.[outputName];
    if (!output) throw new Error(`${stack.stackName} has no output ${outputName}`);
    return this.resolve(output.Value, stack);
  }

  private sub(args: unknown, stack: SynthesizedStack): string {
    const [template, variables] = Array.isArray(args)
      ? (args as [string, Record<string, unknown>])
      : [String(args), {}];
    return template.replace(/\$\{([^}!]+)\}/g, (_match, name: string) => {
      if (name in variables) return this.asString(this.resolve(variables[name], stack), 'Fn::Sub');
      const [logicalId, attribute] = name.split(/\.(.+)/);
      const value = attribute ? this.getAtt(logicalId, attribute, stack) : this.ref(logicalId, stack);
      return this.asString(value, 'Fn::Sub');
    });
  }

  private ref(logicalId: string, stack: SynthesizedStack): unknown {
    if (PSEUDO[logicalId]) return PSEUDO[logicalId](stack);
    const parameter = stack.template.Parameters?.[logicalId];
    if (parameter) {
      if (parameter.Default === undefined)
        throw new Error(`${stack.stackName}: parameter ${logicalId} has no default`);
      return parameter.Default;
    }
    const resource = this.resource(logicalId, stack);
    const fake = fakeResource(logicalId, resource, stack, this);
    return fake.ref;
  }

  private getAtt(logicalId: string, attribute: string, stack: SynthesizedStack): unknown {
    const resource = this.resource(logicalId, stack);
    const fake = fakeResource(logicalId, resource, stack, this);
    if (!(attribute in fake.attributes)) {
      throw new Error(
        `${stack.stackName}: the harness has no fake ${resource.Type}.${attribute} (${logicalId})`,
      );
    }
    return fake.attributes[attribute];
  }

  private resource(logicalId: string, stack: SynthesizedStack): CfnResource {
    const resource = stack.template.Resources?.[logicalId];
    if (!resource) throw new Error(`${stack.stackName} has no resource ${logicalId}`);
    return resource;
  }
}

interface FakeResource {
  readonly ref: unknown;
  readonly attributes: Record<string, unknown>;
}

/** The name CloudFormation would generate: `<stack>-<logicalId>-<SUFFIX>`, trimmed to `max`. */
function generatedName(stack: SynthesizedStack, logicalId: string, max: number): string {
  const suffix = hash(`${stack.stackName}/${logicalId}`).slice(0, 12).toUpperCase();
  const head = `${stack.stackName}-${logicalId}`.slice(0, max - suffix.length - 1);
  return `${head}-${suffix}`;
}

function fakeResource(
  logicalId: string,
  resource: CfnResource,
  stack: SynthesizedStack,
  resolver: CfnResolver,
): FakeResource {
  const props = resource.Properties ?? {};
  const named = (property: string, max: number): string =>
    props[property] !== undefined
      ? resolver.resolveString(props[property], stack)
      : generatedName(stack, logicalId, max);
  const arn = (service: string, resource: string): string =>
    `arn:aws:${service}:${FAKE_REGION}:${FAKE_ACCOUNT}:${resource}`;
  const hex17 = hash(`${stack.stackName}/${logicalId}`).slice(0, 17);

  switch (resource.Type) {
    case 'AWS::S3::Bucket': {
      const name = named('BucketName', 63).toLowerCase();
      return {
        ref: name,
        attributes: {
          Arn: `arn:aws:s3:::${name}`,
          DomainName: `${name}.s3.amazonaws.com`,
          RegionalDomainName: `${name}.s3.${FAKE_REGION}.amazonaws.com`,
        },
      };
    }
    case 'AWS::KMS::Key': {
      const id = uuid(`${stack.stackName}/${logicalId}`);
      return { ref: id, attributes: { Arn: arn('kms', `key/${id}`), KeyId: id } };
    }
    case 'AWS::IAM::Role': {
      const name = named('RoleName', 64);
      return {
        ref: name,
        attributes: {
          Arn: `arn:aws:iam::${FAKE_ACCOUNT}:role/${name}`,
          RoleId: `AROA${hex17.toUpperCase()}`,
        },
      };
    }
    case 'AWS::Lambda::Function': {
      const name = named('FunctionName', 64);
      return { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } };
    }
    case 'AWS::SNS::Topic': {
      const name = named('TopicName', 256);
      const topicArn = arn('sns', name);
      return { ref: topicArn, attributes: { TopicArn: topicArn, TopicName: name } };
    }
    case 'AWS::EC2::Subnet':
      return { ref: `subnet-0${hex17}`, attributes: { SubnetId: `subnet-0${hex17}` } };
    case 'AWS::EC2::SecurityGroup':
      return { ref: `sg-0${hex17}`, attributes: { GroupId: `sg-0${hex17}` } };
    case 'AWS::EC2::VPC':
      return { ref: `vpc-0${hex17}`, attributes: { VpcId: `vpc-0${hex17}` } };
    case 'AWS::CloudWatch::Alarm': {
      const name = named('AlarmName', 255);
      return { ref: name, attributes: { Arn: arn('cloudwatch', `alarm:${name}`) } };
    }
    case 'AWS::SageMaker::Endpoint':
    case 'AWS::SageMaker::EndpointConfig':
    case 'AWS::SageMaker::Model': {
      const [kind, property] = {
        'AWS::SageMaker::Endpoint': ['endpoint', 'EndpointName'],
        'AWS::SageMaker::EndpointConfig': ['endpoint-config', 'EndpointConfigName'],
        'AWS::SageMaker::Model': ['model', 'ModelName'],
      }[resource.Type] as [string, string];
      // SageMaker names allow only letters, digits and hyphens, at most 63.
      const name =
        props[property] !== undefined
          ? resolver.resolveString(props[property], stack)
          : `${logicalId.replace(/[^a-zA-Z0-9]/g, '')}-${hex17}`.slice(0, 63);
      const resourceArn = arn('sagemaker', `${kind}/${name.toLowerCase()}`);
      return {
        ref: resourceArn,
        attributes: { [property]: name, [`${property.replace(/Name$/, '')}Arn`]: resourceArn },
      };
    }
    case 'AWS::SageMaker::ModelPackageGroup': {
      const name = named('ModelPackageGroupName', 63);
      const groupArn = arn('sagemaker', `model-package-group/${name.toLowerCase()}`);
      return { ref: groupArn, attributes: { ModelPackageGroupArn: groupArn } };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = named('StateMachineName', 80);
      const machineArn = arn('states', `stateMachine:${name}`);
      return { ref: machineArn, attributes: { Arn: machineArn, Name: name } };
    }
    case 'AWS::Athena::WorkGroup':
      // Ref is the workgroup's name.
      return { ref: named('Name', 128), attributes: {} };
    case 'AWS::Glue::Database': {
      // Ref is the database's name, from DatabaseInput.
      const input = props.DatabaseInput as { Name?: unknown } | undefined;
      const name =
        input?.Name !== undefined
          ? resolver.resolveString(input.Name, stack)
          : generatedName(stack, logicalId, 64);
      return { ref: name.toLowerCase(), attributes: {} };
    }
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName', 512);
      return { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } };
    }
    default:
      throw new Error(
        `${stack.stackName}: the harness has no fake value for ${resource.Type} (${logicalId})`,
      );
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function uuid(seed: string): string {
  const h = hash(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
