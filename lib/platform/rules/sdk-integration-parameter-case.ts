import { finding, type BlueprintRule, type Finding } from './core/rule';
import { machinesOf } from './core/sagemaker-requests';

/**
 * Request members whose value is a map with keys of the caller's choosing; their keys are data, not
 * member names. From the API references of the services the app calls (SageMaker Environment,
 * HyperParameters, CustomerMetadataProperties; S3 Metadata; SNS/SQS message attributes; DynamoDB
 * items and expression maps; tag maps).
 */
const FREE_FORM_MEMBERS = new Set([
  'Environment',
  'HyperParameters',
  'CustomerMetadataProperties',
  'Metadata',
  'MessageAttributes',
  'Attributes',
  'Item',
  'Key',
  'ExpressionAttributeNames',
  'ExpressionAttributeValues',
  'Tags',
  'Input',
]);

/**
 * The parameters of an AWS SDK integration (`arn:aws:states:::aws-sdk:...`) are PascalCase, at every
 * level: a camelCase member (as the JavaScript SDK's docs or a CLI skeleton may spell it) is a field
 * Step Functions does not know, and the task fails when it runs.
 *
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html "Parameters in
 * Step Functions are expressed in PascalCase, even if the native service API is in camelCase."
 */
export const SdkIntegrationParameterCase: BlueprintRule = {
  id: 'sdk-integration-parameter-case',
  description: 'Every parameter member of an AWS SDK integration task is PascalCase.',
  documentation: 'https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html',
  check(set) {
    const findings: Finding[] = [];
    for (const machine of machinesOf(set)) {
      for (const call of machine.calls) {
        if (call.integration.kind !== 'sdk') continue;
        const camel: string[] = [];
        walk(call.parameters, [], camel);
        if (camel.length === 0) continue;
        findings.push(
          finding(
            machine.ref,
            `${call.path}/${camel[0]}`,
            `task ${call.state} (${call.integration.service}:${call.integration.operation}) passes camelCase members ${camel.join(', ')}: AWS SDK integration parameters are PascalCase, and Step Functions rejects an unknown field when the task runs`,
          ),
        );
      }
    }
    return findings;
  },
};

function walk(value: unknown, path: string[], out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, [...path, String(i)], out));
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    // A camelCase member is reported once; what it holds is not looked at.
    if (/^[a-z]/.test(key)) out.push([...path, key].join('/'));
    else if (!FREE_FORM_MEMBERS.has(key)) walk(child, [...path, key], out);
  }
}
