import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { App, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';

/**
 * The model schema exactly as CloudFormation hands it to API Gateway: added to a REST API by CDK and
 * read back from the synthesized template (CDK renames `schema` to `$schema`, `ref` to `$ref`).
 */
export function renderedModelSchema(schema: apigateway.JsonSchema): Record<string, unknown> {
  const stack = new Stack(new App(), 'Model');
  const api = new apigateway.RestApi(stack, 'Api', { deploy: false });
  api.root.addMethod('POST');
  api.addModel('Body', { contentType: 'application/json', schema });
  const models = Template.fromStack(stack).findResources('AWS::ApiGateway::Model');
  const [model] = Object.values(models);
  return model.Properties.Schema as Record<string, unknown>;
}

/**
 * A JSON Schema draft 4 validator (ajv 6 with the draft-04 meta-schema): compiling checks the schema
 * against draft 4 itself, so a keyword of a later draft in the wrong form fails here too.
 */
export function draft4Validator(schema: Record<string, unknown>): (value: unknown) => boolean {
  const ajv = new Ajv({ schemaId: 'id', meta: false, validateSchema: true, allErrors: false });
  const metaSchema = JSON.parse(
    fs.readFileSync(
      path.join(path.dirname(require.resolve('ajv/package.json')), 'lib/refs/json-schema-draft-04.json'),
      'utf8',
    ),
  );
  ajv.addMetaSchema(metaSchema);
  const validate = ajv.compile(schema);
  return (value) => validate(value) === true;
}
