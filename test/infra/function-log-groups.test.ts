import { Template } from 'aws-cdk-lib/assertions';
import { appUnderTest } from './app-under-test';

describe.each([
  ['sandbox', 'Delete', 7],
  ['production', 'Retain', 90],
] as const)('every function logs to a log group of its own stack (%s)', (profile, deletionPolicy, days) => {
  const { stacks } = appUnderTest(profile);

  test.each(Object.keys(stacks) as Array<keyof typeof stacks>)(
    '%s: no function leaves Lambda to create a group that never expires and survives destroy',
    (name) => {
      const template = Template.fromStack(stacks[name]);
      const functions = template.findResources('AWS::Lambda::Function');
      const groups = template.findResources('AWS::Logs::LogGroup');
      for (const [id, fn] of Object.entries(functions)) {
        const ref = fn.Properties?.LoggingConfig?.LogGroup?.Ref as string | undefined;
        expect({ id, ownGroup: ref !== undefined && ref in groups }).toEqual({ id, ownGroup: true });
        expect(groups[ref!]).toMatchObject({
          DeletionPolicy: deletionPolicy,
          Properties: { RetentionInDays: days },
        });
      }
    },
  );

  test('covers the functions aws-cdk-lib adds for its own custom resources', () => {
    const network = Template.fromStack(stacks.network).findResources('AWS::Lambda::Function');
    expect(Object.keys(network).some((id) => id.startsWith('CustomVpcRestrictDefaultSG'))).toBe(true);
  });
});
