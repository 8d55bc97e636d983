import { Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { addBlueprintStacks } from '../../lib/platform/blueprint';
import { resolveAppConfig } from '../../lib/platform/config/app-config';
import { DESIGNS } from '../../lib/designs';
import { appUnderTest, DESIGN_IDS, DESIGNS_AND_PROFILES, newApp } from './app-under-test';

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

describe.each(DESIGNS_AND_PROFILES)('cdk-nag AwsSolutions over the whole %s app (%s)', (design, profile) => {
  test('synthesizes with no unacknowledged finding', () => {
    // GIVEN the app with the AwsSolutions pack attached, as bin/app.ts builds it
    const { app } = appUnderTest(design, profile);
    // WHEN it synthesizes THEN no finding fails validation
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  test('every acknowledgement sits on a resource, not a stack, and gives a reason', () => {
    const { app } = appUnderTest(design, profile);
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

test.each(DESIGN_IDS)(
  'the AwsSolutions pack is attached to the %s app: a non-compliant resource fails synth',
  (design) => {
    // GIVEN the app as bin/app.ts builds it, plus a queue without TLS enforcement or a DLQ in the
    // design's last stack
    const app = newApp({ design, profile: 'sandbox' });
    const stacks = addBlueprintStacks(app, resolveAppConfig({ design, profile: 'sandbox' }, DESIGNS));
    new sqs.Queue(stacks[stacks.length - 1], 'NonCompliantQueue');
    // WHEN it synthesizes THEN cdk-nag names the rule
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  },
);
