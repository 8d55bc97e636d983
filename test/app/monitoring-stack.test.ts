import { alarmThresholds } from '../../lib/platform/constructs/monitoring/alarm-thresholds';
import { VARIANT_DIMENSION } from '../../lib/platform/constructs/data/served-list-line';
import { TemplateSet, type StackTemplate } from '../../lib/platform/rules/core/templates';
import { appUnderTest, DESIGNS_AND_PROFILES, type AppUnderTest } from './app-under-test';

/** For each AWS namespace the dashboards use: the dimension that names a resource, and its type. */
const NAMING_DIMENSIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'AWS/SageMaker': { EndpointName: 'AWS::SageMaker::Endpoint' },
  '/aws/sagemaker/Endpoints': { EndpointName: 'AWS::SageMaker::Endpoint' },
  'AWS/Lambda': { FunctionName: 'AWS::Lambda::Function' },
  'AWS/ApiGateway': { ApiName: 'AWS::ApiGateway::RestApi', Stage: 'AWS::ApiGateway::Stage' },
  'AWS/Firehose': { DeliveryStreamName: 'AWS::KinesisFirehose::DeliveryStream' },
  'AWS/States': { StateMachineArn: 'AWS::StepFunctions::StateMachine' },
  // Serverless caches publish per clusterId, not the node-based clusters' CacheClusterId
  // (lib/platform/rules/alarm-dimensions-name-resources.ts).
  'AWS/ElastiCache': { clusterId: 'AWS::ElastiCache::ServerlessCache' },
};

/** The whole app's templates, as the blueprint's rules read them. */
function templatesOf(under: AppUnderTest): TemplateSet {
  return new TemplateSet(
    under.stacks.map((stack): StackTemplate => ({
      stackName: stack.stackName,
      templatePath: `${stack.artifactId}.template.json`,
      template: under.template(stack.node.id.split('-').pop()!).toJSON(),
    })),
  );
}

/** A metric row of a dashboard widget: namespace, name, dimension pairs, then options. */
interface MetricRow {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

function dashboardOf(set: TemplateSet): {
  widgets: Array<{ type: string; properties: Record<string, unknown> }>;
} {
  const [dashboard, ...others] = set.resources('AWS::CloudWatch::Dashboard');
  expect(others).toEqual([]);
  return JSON.parse(set.resolveString(dashboard.stack, dashboard.resource.Properties!.DashboardBody));
}

function metricRows(widgets: Array<{ properties: Record<string, unknown> }>): MetricRow[] {
  return widgets.flatMap((widget) =>
    ((widget.properties.metrics as unknown[][] | undefined) ?? [])
      .filter((row) => typeof row[0] === 'string')
      .map((row) => {
        const parts = row.filter((p): p is string => typeof p === 'string');
        const [namespace, metricName, ...pairs] = parts;
        const dimensions: Record<string, string> = {};
        for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i]] = pairs[i + 1];
        return { namespace, metricName, dimensions };
      }),
  );
}

describe.each(DESIGNS_AND_PROFILES)('monitoring of the %s app (%s)', (design, profile) => {
  let under: AppUnderTest;
  let set: TemplateSet;
  beforeAll(() => {
    under = appUnderTest(design, profile);
    set = templatesOf(under);
  });

  test('one dashboard for the deployment, in the monitoring stack, named by CloudFormation', () => {
    const dashboards = set.resources('AWS::CloudWatch::Dashboard');
    expect(dashboards.map((d) => d.stack.stackName)).toEqual([under.byRole.Monitoring.stackName]);
    expect(dashboards[0].resource.Properties?.DashboardName).toBeUndefined();
    // The count the README's cost table states: alarms at $0.10 a month each.
    const alarms = set.resources('AWS::CloudWatch::Alarm');
    console.log(`${design} (${profile}): ${dashboards.length} dashboard, ${alarms.length} alarms`);
    expect(alarms.length).toBeGreaterThan(0);
  });

  test("every alarm of the app notifies the data stack's alarm topic", () => {
    const data = set.stack(under.byRole.Data.stackName)!;
    const [topicId] = Object.entries(data.template.Resources ?? {}).find(
      ([id, r]) => r.Type === 'AWS::SNS::Topic' && id.startsWith('AlarmsTopic'),
    )!;
    const topicArn = set.resolve(data, { Ref: topicId });
    const alarms = set.resources('AWS::CloudWatch::Alarm');
    for (const alarm of alarms) {
      const actions = set.resolve(alarm.stack, alarm.resource.Properties?.AlarmActions ?? []);
      expect({ alarm: `${alarm.stack.stackName}/${alarm.logicalId}`, actions }).toEqual({
        alarm: `${alarm.stack.stackName}/${alarm.logicalId}`,
        actions: [topicArn],
      });
      // Missing data is chosen per alarm, never left to CloudWatch's default.
      expect(alarm.resource.Properties?.TreatMissingData).toMatch(/^(breaching|notBreaching)$/);
    }
  });

  test("every dashboard metric names a resource of the app, and the design's own metrics a function and variant", () => {
    const { widgets } = dashboardOf(set);
    const rows = metricRows(widgets);
    expect(rows.length).toBeGreaterThan(20);
    const namespaceOfDesign = under.config.design.id
      .split('-')
      .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
      .join('');
    // What the functions publish under the design's namespace: their Powertools service names.
    const services = set
      .resources('AWS::Lambda::Function')
      .map(
        (f) =>
          (f.resource.Properties?.Environment as { Variables?: Record<string, string> } | undefined)
            ?.Variables ?? {},
      )
      .filter((env) => env.POWERTOOLS_METRICS_NAMESPACE === namespaceOfDesign)
      .map((env) => env.POWERTOOLS_SERVICE_NAME);
    const variants = under.config.design.abVariants.map((v) => v.name);
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.namespace);
      const naming = NAMING_DIMENSIONS[row.namespace];
      if (row.namespace === namespaceOfDesign) {
        const { service, [VARIANT_DIMENSION]: variant } = row.dimensions;
        // A function's EMF metric carries its Powertools service; a per-variant count, a real variant;
        // clicks come from the feedback function only, so they carry its service.
        const known =
          (service === undefined || services.includes(service)) &&
          (variant === undefined || variants.includes(variant)) &&
          (service !== undefined || variant !== undefined) &&
          (row.metricName !== 'Clicks' || service !== undefined);
        expect({
          row,
          known,
        }).toEqual({
          row,
          known: true,
        });
        continue;
      }
      expect({ row, namespaceKnown: naming !== undefined }).toEqual({ row, namespaceKnown: true });
      for (const [name, type] of Object.entries(naming)) {
        const value = row.dimensions[name];
        expect({ row, name, present: value !== undefined }).toEqual({ row, name, present: true });
        const named =
          type === 'AWS::ApiGateway::RestApi'
            ? set
                .resources(type)
                .find((api) => set.resolve(api.stack, api.resource.Properties?.Name) === value)
            : type === 'AWS::ApiGateway::Stage'
              ? stageNamedBy(set, value)
              : set.resourceNamedBy(value, type);
        expect({ row, name, names: named?.logicalId ?? null }).toEqual({
          row,
          name,
          names: expect.any(String),
        });
      }
      if (row.dimensions.VariantName !== undefined) expect(variants).toContain(row.dimensions.VariantName);
    }
    // The API, the functions, the endpoint, the pipeline and ingestion are all on the dashboard.
    expect([...seen]).toEqual(
      expect.arrayContaining(['AWS/ApiGateway', 'AWS/Lambda', 'AWS/SageMaker', 'AWS/States', 'AWS/Firehose']),
    );
  });

  test('alarm widgets show alarms of the app', () => {
    const { widgets } = dashboardOf(set);
    const alarmArns = set.resources('AWS::CloudWatch::Alarm').map((a) => set.arnOf(a));
    const shown = widgets
      .filter((w) => w.type === 'metric' && (w.properties.annotations as { alarms?: string[] })?.alarms)
      .flatMap((w) => (w.properties.annotations as { alarms: string[] }).alarms);
    // The endpoint's guardrail alarms, one errors and one latency alarm per variant, and any alarm
    // defined with its resource elsewhere (Model Monitor's drift alarm).
    expect(shown.length).toBeGreaterThanOrEqual(
      2 * set.resources('AWS::SageMaker::Endpoint').length * endpointVariants(set),
    );
    for (const arn of shown) expect(alarmArns).toContain(arn);
  });

  test('thresholds are the ones derived from the requirements', () => {
    const { design: d, capacity } = under.config;
    const endpoint = set.resources('AWS::SageMaker::Endpoint')[0];
    const variants = under.config.profile.endpoint.kind === 'serverless' ? [d.abVariants[0]] : d.abVariants;
    const expected = alarmThresholds(d.requirements, capacity, variants);
    const alarms = set.resources('AWS::CloudWatch::Alarm').map((a) => a.resource.Properties ?? {});
    const named = (part: string) => alarms.filter((a) => String(a.AlarmName ?? '').includes(part));
    expect(named('-Api-Latency-P99-').map((a) => a.Threshold)).toEqual([d.requirements.p99LatencyMs]);
    const errorShares = named('ErrorShare-');
    expect(errorShares.length).toBeGreaterThanOrEqual(3);
    for (const alarm of errorShares) expect(alarm.Threshold).toBe(expected.maxErrorShare);
    const latency = alarms.filter((a) => a.MetricName === 'ModelLatency');
    expect(latency.length).toBe(variants.length);
    for (const alarm of latency) expect(alarm.Threshold).toBe(capacity.modelTimeoutMs * 1000);
    expect(endpoint).toBeDefined();
  });
});

/** The stage a Stage dimension names: by its StageName, or by the Ref that returns it. */
function stageNamedBy(set: TemplateSet, value: string) {
  const ref = /^«ref!([^!]+)!([^»]+)»$/.exec(value);
  if (ref) {
    const found = set.resource(ref[1], ref[2]);
    return found?.resource.Type === 'AWS::ApiGateway::Stage' ? found : undefined;
  }
  return set
    .resources('AWS::ApiGateway::Stage')
    .find((s) => set.resolve(s.stack, s.resource.Properties?.StageName) === value);
}

function endpointVariants(set: TemplateSet): number {
  const config = set.resources('AWS::SageMaker::EndpointConfig')[0];
  return (config.resource.Properties?.ProductionVariants as unknown[]).length;
}
