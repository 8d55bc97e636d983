/**
 * The app's state machines as deployed: synthesized for a profile (once per test file), their
 * `DefinitionString` read from the synthesized template and resolved with fake deployment values.
 */
import { Stack, type CfnResource } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { addBlueprintStacks } from '../../../lib/platform/blueprint';
import { resolveAppConfig, type AppConfig } from '../../../lib/platform/config/app-config';
import type { Design } from '../../../lib/platform/config/design';
import type { ProfileName } from '../../../lib/platform/config/profile';
import { DESIGNS } from '../../../lib/designs';
import { newApp } from '../../app/app-under-test';
import { CfnResolver, type CfnTemplate, type SynthesizedStack } from './cfn';
import type { DeployedStateMachine } from './run';
import type { AslDefinition } from './types';

export interface SynthesizedApp {
  readonly profile: ProfileName;
  readonly config: AppConfig;
  readonly stacks: readonly Stack[];
  /** The app's one stack of this class, e.g. `app.stack(PipelineStack)`. */
  stack<T extends Stack>(type: abstract new (...args: never[]) => T): T;
  readonly templates: readonly SynthesizedStack[];
  readonly resolver: CfnResolver;
}

const synthesized = new Map<string, SynthesizedApp>();

/**
 * The app as `cdk synth -c design=... -c profile=...` builds it (the composition of
 * `appUnderTest`), except that asset bundling is skipped: bundling only changes asset hashes, never
 * a state machine definition, and skipping it saves seconds per synth.
 * @param design a registered design id; the default design when omitted
 * @param designs the registry to pick it from, e.g. a design changed for one test (not cached)
 */
export function synthesizeApp(
  profile: ProfileName,
  design?: string,
  designs?: Readonly<Record<string, Design>>,
): SynthesizedApp {
  const key = `${design ?? ''}/${profile}`;
  const cached = designs ? undefined : synthesized.get(key);
  if (cached) return cached;
  const app = newApp({ profile, 'aws:cdk:bundling-stacks': [] });
  const config = resolveAppConfig({ profile, design }, designs ?? DESIGNS);
  const stacks = addBlueprintStacks(app, config);
  const assembly = app.synth();
  const templates = assembly.stacks.map((artifact) => ({
    stackName: artifact.stackName,
    template: artifact.template as CfnTemplate,
  }));
  const stack = <T extends Stack>(type: abstract new (...args: never[]) => T): T => {
    const found = stacks.filter((candidate): candidate is T => candidate instanceof type);
    if (found.length !== 1)
      throw new Error(`${config.design.id} has ${found.length} stacks of class ${type.name}`);
    return found[0];
  };
  const result = { profile, config, stacks, stack, templates, resolver: new CfnResolver(templates) };
  if (!designs) synthesized.set(key, result);
  return result;
}

/** `stateMachine` as the synthesized template deploys it: ARN, name, ASL with intrinsics resolved. */
export function deployedStateMachine(
  app: SynthesizedApp,
  stateMachine: sfn.StateMachine,
): DeployedStateMachine {
  const stack = Stack.of(stateMachine);
  const logicalId = stack.resolve((stateMachine.node.defaultChild as CfnResource).logicalId) as string;
  const template = app.templates.find((candidate) => candidate.stackName === stack.stackName);
  if (!template) throw new Error(`no template for ${stack.stackName}`);
  return fromTemplate(app, template, logicalId);
}

/** Every `AWS::StepFunctions::StateMachine` of the app, as deployed. */
export function deployedStateMachines(app: SynthesizedApp): DeployedStateMachine[] {
  return app.templates.flatMap((template) =>
    Object.entries(template.template.Resources ?? {})
      .filter(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine')
      .map(([logicalId]) => fromTemplate(app, template, logicalId)),
  );
}

function fromTemplate(
  app: SynthesizedApp,
  template: SynthesizedStack,
  logicalId: string,
): DeployedStateMachine {
  const resource = template.template.Resources?.[logicalId];
  if (resource?.Type !== 'AWS::StepFunctions::StateMachine') {
    throw new Error(`${template.stackName} has no state machine ${logicalId}`);
  }
  const definitionString = resource.Properties?.DefinitionString;
  if (definitionString === undefined) {
    throw new Error(`${logicalId} has no DefinitionString (a DefinitionS3Location is not read here)`);
  }
  const arn = app.resolver.resolveString({ Ref: logicalId }, template);
  return {
    arn,
    name: arn.split(':').pop() as string,
    definition: JSON.parse(app.resolver.resolveString(definitionString, template)) as AslDefinition,
  };
}

/**
 * The deployed (fake) value of a token of `scope`'s stack, e.g. an endpoint's name: what a
 * request built from a cross-stack reference to it carries.
 */
export function deployedValue(app: SynthesizedApp, scope: IConstruct, token: unknown): unknown {
  const stack = Stack.of(scope);
  const template = app.templates.find((candidate) => candidate.stackName === stack.stackName);
  if (!template) throw new Error(`no template for ${stack.stackName}`);
  return app.resolver.resolve(stack.resolve(token), template);
}
