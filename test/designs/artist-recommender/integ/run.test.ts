import { assertionResults, describeAssertion } from './run';

// GIVEN two assertion resources as integ-tests-alpha writes them, and their outputs
const template = {
  Resources: {
    Post: {
      Type: 'Custom::DeployAssert@SdkCallLambdainvoke',
      Properties: {
        parameters: {
          FunctionName: { Ref: 'Driver' },
          Payload: '"{\\"op\\":\\"post-events\\",\\"users\\":200,\\"days\\":14,\\"seed\\":42}"',
        },
      },
    },
    History: { Type: 'Custom::DeployAssert@SdkCallStepFunctionsgetExecutionHistory', Properties: {} },
    Late: { Type: 'Custom::DeployAssert@SdkCallLambdainvoke', Properties: {} },
  },
  Outputs: {
    AssertionResultsPost: { Value: { 'Fn::GetAtt': ['Post', 'assertion'] as [string, string] } },
    AssertionResultsHistory: { Value: { 'Fn::GetAtt': ['History', 'assertion'] as [string, string] } },
    AssertionResultsLate: { Value: { 'Fn::GetAtt': ['Late', 'assertion'] as [string, string] } },
    ApiUrl: { Value: {} },
  },
};

test('reads each assertion result from the outputs, naming the assertion', () => {
  const results = assertionResults(template, {
    AssertionResultsPost: '{"status":"success"}',
    AssertionResultsHistory:
      '{"status":"fail","message":"Expected NotPromoted|Promoted but received Failed"}',
  });
  expect(results).toEqual([
    { label: 'SdkCallLambdainvoke post-events', status: 'success' },
    {
      label: 'SdkCallStepFunctionsgetExecutionHistory',
      status: 'fail',
      message: 'Expected NotPromoted|Promoted but received Failed',
    },
    { label: 'SdkCallLambdainvoke', status: 'not run' },
  ]);
});

test('an output that is not a result JSON is a failure, shown as it is', () => {
  expect(assertionResults(template, { AssertionResultsPost: 'oops' })[0]).toEqual({
    label: 'SdkCallLambdainvoke post-events',
    status: 'fail',
    message: 'oops',
  });
});

test('describeAssertion names the kind of call and the driver operation', () => {
  expect(describeAssertion(template.Resources.Post)).toBe('SdkCallLambdainvoke post-events');
  expect(describeAssertion({ Type: 'Custom::DeployAssert@HttpCall' })).toBe('HttpCall');
});
