import { App, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { architectureGraph } from '../../../scripts/docs/graph/architecture-graph';
import { parseJoinedJson } from '../../../scripts/docs/graph/joined-json';
import { findReferences } from '../../../scripts/docs/graph/intrinsics';
import { crossStackEdges, diagramGraph, type ArchitectureGraph } from '../../../scripts/docs/graph/model';
import { toDot } from '../../../scripts/docs/render/dot';
import { toMermaid } from '../../../scripts/docs/render/mermaid';
import { synthesizedStacks } from '../../../scripts/docs/synthesized-app';

/** A function whose code is inline: nothing to bundle. */
function fn(scope: Construct, id: string, environment: Record<string, string> = {}): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    environment,
  });
}

/** The graph of the stacks `build` adds to a fresh app; stack ids end in their role, as the blueprint's do. */
function graphOf(build: (app: App) => Stack[], context: Record<string, unknown> = {}): ArchitectureGraph {
  const app = new App({ context });
  return architectureGraph(synthesizedStacks(app, build(app)));
}

const edge = (graph: ArchitectureGraph, from: string, to: string) =>
  graph.edges.find((e) => e.from === from && e.to === to);

describe('architecture graph: connections', () => {
  it('gives one edge, with its kinds, for a function that reads a bucket', () => {
    // GIVEN a function granted read on a bucket and told its name, WHEN the app's graph is built
    const graph = graphOf((app) => {
      const stack = new Stack(app, 'Test-Data');
      const bucket = new s3.Bucket(stack, 'Bucket');
      const reader = fn(stack, 'Reader', { BUCKET: bucket.bucketName });
      bucket.grantRead(reader);
      return [stack];
    });
    // THEN two nodes, the role and its policy grouped into the function's, and one edge between them
    expect(graph.nodes.map((n) => [n.id, n.kind, n.resourceCount])).toEqual([
      ['Data/Bucket', 'S3 bucket', 1],
      ['Data/Reader', 'Lambda function', 3],
    ]);
    expect(graph.edges).toEqual([{ from: 'Data/Reader', to: 'Data/Bucket', kinds: ['IAM', 'env'] }]);
  });

  it.each([
    ['CloudFormation exports (Fn::ImportValue)', {}],
    ['weak references (Fn::GetStackOutput)', { '@aws-cdk/core:defaultCrossStackReferences': 'weak' }],
  ])('follows a reference to another stack through %s', (_, context) => {
    // GIVEN the bucket in one stack and the function that writes it in another, WHEN the graph is built
    const graph = graphOf((app) => {
      const data = new Stack(app, 'Test-Data');
      const bucket = new s3.Bucket(data, 'Bucket');
      const serving = new Stack(app, 'Test-Serving');
      bucket.grantWrite(fn(serving, 'Writer', { BUCKET: bucket.bucketName }));
      return [data, serving];
    }, context);
    // THEN the edge crosses the stacks, and each stack is a group of the graph
    expect(graph.stacks.map((s) => s.role)).toEqual(['Data', 'Serving']);
    expect(crossStackEdges(graph)).toEqual([
      { from: 'Serving/Writer', to: 'Data/Bucket', kinds: ['IAM', 'env'] },
    ]);
  });

  it('reads the functions a state machine runs, and the function an API invokes', () => {
    // GIVEN a state machine with a Lambda task, and a REST API in front of another function, WHEN the graph is built
    const graph = graphOf((app) => {
      const stack = new Stack(app, 'Test-Serving');
      const worker = fn(stack, 'Worker');
      new sfn.StateMachine(stack, 'Flow', {
        definitionBody: sfn.DefinitionBody.fromChainable(
          new tasks.LambdaInvoke(stack, 'Work', { lambdaFunction: worker }),
        ),
        timeout: Duration.minutes(5),
      });
      new apigateway.LambdaRestApi(stack, 'Api', { handler: fn(stack, 'Handler') });
      return [stack];
    });
    // THEN the state machine reaches its task's function, the API its handler
    expect(edge(graph, 'Serving/Flow', 'Serving/Worker')?.kinds).toEqual(['IAM', 'task']);
    expect(edge(graph, 'Serving/Api', 'Serving/Handler')?.kinds).toEqual(['invokes']);
  });
});

describe('architecture graph: grouping', () => {
  class Store extends Construct {
    readonly bucket: s3.Bucket;
    constructor(scope: Construct, id: string) {
      super(scope, id);
      const logs = new s3.Bucket(this, 'AccessLogs');
      this.bucket = new s3.Bucket(this, 'Bucket', { serverAccessLogsBucket: logs });
    }
  }
  class Worker extends Construct {
    constructor(scope: Construct, id: string, store: Store) {
      super(scope, id);
      store.bucket.grantReadWrite(fn(this, 'Function'));
    }
  }

  it('names a node by the highest construct that holds only its resource; access-log buckets are not nodes', () => {
    // GIVEN a construct holding a bucket and its access-log bucket, and one wrapping a function, WHEN the graph is built
    const graph = graphOf((app) => {
      const stack = new Stack(app, 'Test-Data');
      const group = new Construct(stack, 'Group');
      const store = new Store(group, 'Store');
      new Worker(group, 'Worker', store);
      return [stack];
    });
    // THEN `Group` holds two node resources, so each node is one level below it
    expect(graph.nodes.map((n) => n.id)).toEqual(['Data/Group/Store', 'Data/Group/Worker']);
    expect(graph.nodes[0].resourceCount).toBe(2); // the bucket and its access-log bucket
  });

  it('draws no custom resource provider, and no connection to one', () => {
    // GIVEN a custom resource served by a provider framework around a function of ours, WHEN the graph is built
    const graph = graphOf((app) => {
      const stack = new Stack(app, 'Test-Pipeline');
      const onEvent = fn(stack, 'OnEvent');
      const provider = new cr.Provider(stack, 'Provider', { onEventHandler: onEvent });
      new CustomResource(stack, 'Resource', { serviceToken: provider.serviceToken });
      return [stack];
    });
    // THEN only the handler is a node
    expect(graph.nodes.map((n) => n.id)).toEqual(['Pipeline/OnEvent']);
    expect(graph.edges).toEqual([]);
  });

  it('builds the same graph, Mermaid and DOT on every run', () => {
    // GIVEN the same stacks, WHEN they are built and drawn twice, in two apps
    const build = (app: App) => {
      const data = new Stack(app, 'Test-Data');
      const store = new Store(data, 'Store');
      const serving = new Stack(app, 'Test-Serving');
      new Worker(serving, 'Worker', store);
      new Worker(serving, 'Another', store);
      return [serving, data];
    };
    const [first, second] = [graphOf(build), graphOf(build)];
    // THEN everything is equal, and sorted whatever the order the stacks were given in
    expect(second).toEqual(first);
    expect(toMermaid(diagramGraph(second))).toBe(toMermaid(diagramGraph(first)));
    expect(toDot(second)).toBe(toDot(first));
    expect(first.stacks.map((s) => s.role)).toEqual(['Data', 'Serving']);
    expect(first.edges.map((e) => e.from)).toEqual(['Serving/Another', 'Serving/Worker']);
  });
});

describe('template values', () => {
  it('parses a joined JSON document with the intrinsics in place, so a reference has a path', () => {
    const joined = {
      'Fn::Join': [
        '',
        ['{"Task":{"Resource":"', { 'Fn::GetAtt': ['Fn', 'Arn'] }, '","Name":"x-', { Ref: 'Id' }, '"}}'],
      ],
    };
    expect(parseJoinedJson(joined)).toEqual({
      Task: { Resource: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Name: { 'Fn::Join': ['', ['x-', { Ref: 'Id' }]] } },
    });
    // An intrinsic outside a JSON string cannot be placed: the value comes back as it was.
    const unparsable = { 'Fn::Join': ['', ['{"n":', { Ref: 'Count' }, '}']] };
    expect(parseJoinedJson(unparsable)).toBe(unparsable);
  });

  it('finds Ref, GetAtt and Fn::Sub references to resources, not pseudo parameters or Sub variables', () => {
    const templates = new Map([
      ['S', { Resources: { A: { Type: 'X' }, B: { Type: 'X' }, C: { Type: 'X' } } }],
    ]);
    const value = {
      One: { Ref: 'A' },
      Two: { 'Fn::Sub': ['${B.Arn}/${AWS::Region}/${Var}', { Var: { Ref: 'C' } }] },
      Three: { Ref: 'AWS::AccountId' },
    };
    expect(findReferences(value, 'S', templates).map((r) => r.target.logicalId)).toEqual(['A', 'B', 'C']);
  });
});
