/**
 * The integration test's no-deploy mode, run by `npm test` (and so by CI): the app of
 * `integ.sandbox.ts` must synthesize to the committed snapshot, or `npm run integ` would deploy
 * something the snapshot does not describe. Needs no AWS credentials.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { describeAssertion } from './run';
import { WAITS } from './sandbox-integ-app';
import { compareAssemblies, readAssembly, SNAPSHOT_DIR, synthesize, type Assembly } from './snapshot';

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
}

let outdir: string;
let actual: Assembly;

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-synth-'));
  synthesize(outdir);
  actual = readAssembly(outdir);
}, 180_000);

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

const integResources = () =>
  (actual.templates['ArtistRecommender-sandbox-Integ'] as { Resources: Record<string, Resource> }).Resources;

test('the committed snapshot is current: nothing would deploy differently (else npm run integ:update)', () => {
  const problems = compareAssemblies(readAssembly(SNAPSHOT_DIR), actual);
  if (problems.length > 0) {
    throw new Error(
      `test/designs/artist-recommender/integ/integ.sandbox.ts.snapshot is stale; run npm run integ:update and review the diff:\n  ${problems.join('\n  ')}`,
    );
  }
});

test('the assertions run one after another, in the order of the scenario', () => {
  const resources = integResources();
  const assertions = Object.keys(resources).filter((id) =>
    resources[id].Type.startsWith('Custom::DeployAssert'),
  );
  // Each assertion depends on the one before it (`.next()`); the first on none of them.
  const previous = new Map(
    assertions.map((id) => [id, (resources[id].DependsOn ?? []).filter((d) => assertions.includes(d))]),
  );
  expect([...previous.values()].every((deps) => deps.length <= 1)).toBe(true);
  const order = [assertions.find((id) => previous.get(id)!.length === 0)!];
  while (order.length < assertions.length) {
    const next = assertions.find((id) => previous.get(id)![0] === order[order.length - 1]);
    if (!next) break;
    order.push(next);
  }
  const stateMachine = (id: string) =>
    /Etl|Training/.exec(JSON.stringify(resources[id].Properties?.parameters ?? ''))?.[0] ?? '';
  expect(order.map((id) => `${describeAssertion(resources[id])} ${stateMachine(id)}`.trim())).toEqual([
    'HttpCall',
    'SdkCallLambdainvoke recommendations',
    'SdkCallLambdainvoke import-accounts',
    'SdkCallLambdainvoke post-events',
    'SdkCallLambdainvoke count-delivered',
    'SdkCallStepFunctionsstartExecution Etl',
    'SdkCallStepFunctionsdescribeExecution',
    'SdkCallStepFunctionsdescribeExecution',
    'SdkCallStepFunctionsstartExecution Training',
    'SdkCallStepFunctionsdescribeExecution',
    'SdkCallStepFunctionsgetExecutionHistory',
    'SdkCallLambdainvoke recommendations',
  ]);
});

test('every function of the harness logs to a group its stack deletes', () => {
  const resources = integResources();
  const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  expect(functions.length).toBeGreaterThanOrEqual(4);
  for (const [id, fn] of functions) {
    const group = (fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup
      ?.Ref;
    expect({
      id,
      group: group && resources[group]?.Type,
      deletion: group && resources[group]?.DeletionPolicy,
    }).toEqual({
      id,
      group: 'AWS::Logs::LogGroup',
      deletion: 'Delete',
    });
  }
});

test('the driver may invoke the two routes of the API under test and nothing else of it', () => {
  const resources = integResources();
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap(
      (r) =>
        (r.Properties!.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
    )
    .filter((s) => JSON.stringify(s.Action).includes('execute-api'));
  expect(statements).toHaveLength(1);
  const routes = JSON.stringify(statements[0].Resource).match(/\/(GET|POST)\/[^"]*/g);
  expect(routes).toEqual(['/GET/v1/users/*/recommendations', '/POST/v1/events']);
});

test("every wait ends before CloudFormation's one-hour limit on a custom resource", () => {
  for (const wait of Object.values(WAITS)) {
    expect(wait.totalTimeout.toSeconds()).toBeLessThan(Duration.hours(1).toSeconds());
    // integ-tests-alpha needs the total to be a whole number of intervals.
    expect(wait.totalTimeout.toSeconds() % wait.interval.toSeconds()).toBe(0);
  }
});

describe('compareAssemblies', () => {
  const template = (properties: Record<string, unknown>) => ({
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function', Properties: properties },
      Check: {
        Type: 'Custom::DeployAssert@SdkCallLambdainvoke',
        Properties: { salt: '1700000000000', api: 'invoke' },
      },
    },
  });
  const hash = (c: string) => c.repeat(64);
  const assembly = (templates: Record<string, unknown>, integ: unknown = { testCases: {} }): Assembly => ({
    templates,
    integ,
  });

  test('ignores asset hashes and assertion salts', () => {
    const expected = assembly({ S: template({ Code: { S3Key: `${hash('a')}.zip` } }) });
    const changed = assembly({ S: template({ Code: { S3Key: `${hash('b')}.zip` } }) });
    (
      changed.templates.S as { Resources: { Check: { Properties: { salt: string } } } }
    ).Resources.Check.Properties.salt = '1800000000000';
    expect(compareAssemblies(expected, changed)).toEqual([]);
  });

  test('reports a changed property with its path, and stacks added or removed', () => {
    const expected = assembly({ S: template({ MemorySize: 512 }), Gone: template({}) });
    const changed = assembly({ S: template({ MemorySize: 1024 }), New: template({}) });
    expect(compareAssemblies(expected, changed)).toEqual([
      'Gone: in the snapshot, not in the app',
      'S: Resources.Fn.Properties.MemorySize: 512 -> 1024',
      'New: in the app, not in the snapshot',
    ]);
  });

  test('reports a changed test option', () => {
    const expected = assembly({}, { testCases: { T: { regions: ['us-east-1'] } } });
    const changed = assembly({}, { testCases: { T: { regions: ['eu-west-1'] } } });
    expect(compareAssemblies(expected, changed)).toEqual([
      'integ.json: testCases.T.regions.0: "us-east-1" -> "eu-west-1"',
    ]);
  });
});
