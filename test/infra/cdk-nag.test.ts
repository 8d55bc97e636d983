import { Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { addBlueprintStacks } from '../../lib/platform/blueprint';
import { resolveAppConfig } from '../../lib/platform/config/app-config';
import { DESIGNS } from '../../lib/designs';
import type { IConstruct } from 'constructs';
import { appUnderTest, newApp } from './app-under-test';

interface Acknowledgement {
  readonly path: string;
  readonly scope: IConstruct;
  readonly rule: string;
  readonly reason: string;
}

/** The cdk-nag acknowledgements of the app: metadata entries `{ 'Annotation::AwsSolutions-X': reason }`. */
function nagAcknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((scope) =>
    scope.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .filter(([rule]) => rule.startsWith('Annotation::AwsSolutions-'))
      .map(([rule, reason]) => ({ path: scope.node.path, scope, rule, reason })),
  );
}

describe.each(['sandbox', 'production'] as const)('cdk-nag AwsSolutions over the whole %s app', (profile) => {
  test('synthesizes with no unacknowledged finding', () => {
    // GIVEN the app with the AwsSolutions pack attached, as bin/app.ts builds it
    const { app } = appUnderTest(profile);
    // WHEN it synthesizes THEN no finding fails validation
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  test('every acknowledgement sits on a resource, not a stack, and gives a reason', () => {
    const { app } = appUnderTest(profile);
    const acks = nagAcknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const { path, scope, rule, reason } of acks) {
      expect({ path, rule, onStack: Stack.isStack(scope), explained: reason.length >= 40 }).toEqual({
        path,
        rule,
        onStack: false,
        explained: true,
      });
    }
  });
});

test('the AwsSolutions pack is attached: a non-compliant resource fails synth', () => {
  // GIVEN the app as bin/app.ts builds it, plus a queue without TLS enforcement or a DLQ
  const app = newApp({ profile: 'sandbox' });
  const { serving } = addBlueprintStacks(app, resolveAppConfig({ profile: 'sandbox' }, DESIGNS));
  new sqs.Queue(serving, 'NonCompliantQueue');
  // WHEN it synthesizes THEN cdk-nag names the rule
  expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
});
