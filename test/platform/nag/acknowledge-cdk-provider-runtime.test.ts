import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import {
  acknowledgeCdkProviderRuntime,
  LATEST_RUNTIME_RULE,
} from '../../../lib/platform/nag/acknowledge-cdk-provider-runtime';
import { compareFindings } from './nag-findings';
import { inlineFunction } from './small-resources';

describe('acknowledgeCdkProviderRuntime', () => {
  test("silences exactly L1 on the provider framework's function, not on a function of the app", () => {
    // GIVEN a custom resource provider whose framework function runs a runtime older than the latest
    // aws-cdk-lib knows (as it does when a release adds a runtime before moving its providers to
    // it), and a function of the app on an older runtime beside it
    const { without, silenced, added } = compareFindings((stack, acknowledge) => {
      const provider = new cr.Provider(stack, 'Provider', {
        onEventHandler: inlineFunction(stack, 'Handler'),
      });
      const framework = provider.node.findChild('framework-onEvent').node.defaultChild as lambda.CfnFunction;
      framework.runtime = lambda.Runtime.NODEJS_22_X.name;
      inlineFunction(stack, 'Outdated', { runtime: lambda.Runtime.NODEJS_22_X });
      // WHEN the provider is acknowledged, or not
      if (acknowledge) acknowledgeCdkProviderRuntime(provider);
    });
    // THEN cdk-nag reports both without it, and only the app's own function with it
    const framework = `${LATEST_RUNTIME_RULE} @ Small/Provider/framework-onEvent/Resource`;
    expect(without).toEqual(
      expect.arrayContaining([framework, `${LATEST_RUNTIME_RULE} @ Small/Outdated/Resource`]),
    );
    expect(silenced).toEqual([framework]);
    expect(added).toEqual([]);
  });
});
