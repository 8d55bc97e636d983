import { App, Stack } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { acknowledgeProviderInvokesHandler } from '../../../lib/platform/nag/acknowledge-provider-invokes-handler';
import { compareFindings } from './nag-findings';
import { inlineFunction } from './small-resources';

describe('acknowledgeProviderInvokesHandler', () => {
  test("silences exactly IAM5's finding for the handler's versions on the framework's policy", () => {
    // GIVEN a provider whose framework function may invoke the handler and its versions (ARN:*)
    let handlerId = '';
    const { without, silenced, added } = compareFindings((stack, acknowledge) => {
      const handler = inlineFunction(stack, 'Handler');
      handlerId = stack.getLogicalId(handler.node.defaultChild as never);
      const provider = new cr.Provider(stack, 'Provider', { onEventHandler: handler });
      // WHEN it is acknowledged, or not
      if (acknowledge) acknowledgeProviderInvokesHandler(provider, handler);
    });
    // THEN the finding that names the handler goes, and only it
    const finding = `AwsSolutions-IAM5[Resource::<${handlerId}.Arn>:*] @ Small/Provider/framework-onEvent/ServiceRole/DefaultPolicy/Resource`;
    expect(without).toContain(finding);
    expect(silenced).toEqual([finding]);
    expect(added).toEqual([]);
  });

  test('refuses a handler in another stack, whose ARN the finding could not name', () => {
    const app = new App();
    const handler = inlineFunction(new Stack(app, 'Handlers'), 'Handler');
    const provider = new cr.Provider(new Stack(app, 'Providers'), 'Provider', { onEventHandler: handler });
    expect(() => acknowledgeProviderInvokesHandler(provider, handler)).toThrow(
      /Providers\/Provider: the handler Handlers\/Handler is in another stack/,
    );
  });
});
