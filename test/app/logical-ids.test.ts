import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { DESIGN_IDS } from './app-under-test';
import { statefulIds } from './logical-ids';

const DESIGNS_DIR = path.join(__dirname, '..', 'designs');

test.each(DESIGN_IDS)('%s pins the logical IDs of its stateful resources', (design) => {
  // GIVEN the design's table, beside its other infrastructure tests
  const file = path.join(DESIGNS_DIR, design, 'infra', 'logical-ids.test.ts');
  expect({ file, exists: fs.existsSync(file) }).toEqual({ file, exists: true });
  // THEN it checks them for this design
  expect(fs.readFileSync(file, 'utf8')).toMatch(new RegExp(`describeLogicalIds\\(\\s*'${design}'`));
});

test('stateful resources are found by type, whatever their logical ID', () => {
  // GIVEN a template with a bucket, a log group, a table and a stateless function
  const template = Template.fromJSON({
    Resources: {
      Store: { Type: 'AWS::S3::Bucket', Properties: {} },
      StoreLogs: { Type: 'AWS::Logs::LogGroup', Properties: {} },
      Sessions: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      Handler: { Type: 'AWS::Lambda::Function', Properties: {} },
    },
  });
  // THEN the three stateful ones come back, with their types
  expect(statefulIds(template)).toEqual({
    Store: 'AWS::S3::Bucket',
    StoreLogs: 'AWS::Logs::LogGroup',
    Sessions: 'AWS::DynamoDB::Table',
  });
});
