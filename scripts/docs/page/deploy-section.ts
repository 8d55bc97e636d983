import { constructTable } from './data-section';
import { bullets, code, count, document, formatNumber, percent, table } from './markdown';
import { nodeName, perProfile, profileNames, type PageInput } from './page-input';
import type { EndpointFacts } from './template-facts';

/** How one variant of an endpoint is hosted: instances or serverless, and its scaling range. */
export function hosting(endpoint: EndpointFacts, variant: EndpointFacts['variants'][number]): string {
  if (variant.serverless) {
    return `serverless, ${formatNumber(variant.serverless.memoryMb ?? 0)} MB, at most ${formatNumber(variant.serverless.maxConcurrency ?? 0)} concurrent`;
  }
  const scaling = endpoint.scaling.find((s) => s.variant === variant.name);
  const range = !scaling
    ? ''
    : scaling.min === scaling.max
      ? `, scaling held at ${scaling.min}`
      : `, scaling ${scaling.min}-${scaling.max}`;
  const target =
    scaling?.targetInvocationsPerInstancePerMinute === undefined
      ? ''
      : ` (target ${formatNumber(scaling.targetInvocationsPerInstancePerMinute)} invocations per instance per minute)`;
  return `${variant.instanceType} x ${variant.initialInstances ?? 1}${range}${target}`;
}

const withUnit = (value: number | undefined, unit: string) =>
  value === undefined ? undefined : `${formatNumber(value)} ${unit}`;

/** Step 5: the endpoint per profile, the API and its functions, the cache, the alarms. */
export function deploySection(input: PageInput): string {
  const production = input.profiles[input.diagramProfile];
  const endpointRows = profileNames.flatMap((name) =>
    input.profiles[name].facts.endpoints.flatMap((endpoint) => {
      const total = endpoint.variants.reduce((sum, v) => sum + (v.weight ?? 0), 0);
      return endpoint.variants.map((variant) => [
        name,
        nodeName(endpoint.node),
        variant.name,
        total > 0 ? percent((variant.weight ?? 0) / total) : '-',
        hosting(endpoint, variant),
      ]);
    }),
  );
  const endpointNotes = production.facts.endpoints.map(
    (endpoint) =>
      `${nodeName(endpoint.node)}: data capture ${perProfile(input, (view) => {
        const e = view.facts.endpoints.find((other) => other.node === endpoint.node);
        return e && (e.dataCapture ? 'on' : 'off');
      })}; updates ${perProfile(input, (view) => {
        const e = view.facts.endpoints.find((other) => other.node === endpoint.node);
        return (
          e &&
          (e.rollout
            ? `blue/green (${e.rollout}), rolled back by ${e.autoRollbackAlarms} alarms`
            : 'replace the config in place')
        );
      })}.`,
  );
  const routes = table(
    ['method', 'path', 'answered by'],
    production.facts.routes.map((route) => [
      route.method,
      code(route.path),
      route.target ? nodeName(route.target) : '-',
    ]),
  );
  const functions = table(
    ['function', 'description', 'memory', 'timeout', 'reserved concurrency', 'in the VPC'],
    production.facts.functions.map((fn) => {
      const of = (view: (typeof input.profiles)[keyof typeof input.profiles]) =>
        view.facts.functions.find((other) => other.node === fn.node);
      return [
        nodeName(fn.node),
        fn.description ?? '',
        perProfile(input, (view) => withUnit(of(view)?.memoryMb, 'MB')),
        perProfile(input, (view) => withUnit(of(view)?.timeoutSeconds, 's')),
        perProfile(input, (view) => {
          const found = of(view);
          return (
            found &&
            (found.reservedConcurrency === undefined ? 'none' : formatNumber(found.reservedConcurrency))
          );
        }),
        fn.inVpc ? 'yes' : 'no',
      ];
    }),
  );
  const caches = production.facts.caches.map(
    (cache) =>
      `${nodeName(cache.node)}: ElastiCache Serverless ${cache.engine}; limits ${perProfile(input, (view) => {
        const c = view.facts.caches.find((other) => other.node === cache.node);
        if (!c) return undefined;
        const limits = [
          c.maxDataStorageGb === undefined ? undefined : `${formatNumber(c.maxDataStorageGb)} GB`,
          c.maxEcpuPerSecond === undefined ? undefined : `${formatNumber(c.maxEcpuPerSecond)} ECPU/s`,
        ].filter(Boolean);
        return limits.length > 0 ? limits.join(' and ') : 'none';
      })}; snapshots kept ${perProfile(input, (view) => {
        const days = view.facts.caches.find((other) => other.node === cache.node)?.snapshotRetentionDays;
        return count(days ?? 0, 'day');
      })}.`,
  );
  const throttles = production.facts.apis.map(
    (api) =>
      `${nodeName(api.node)} throttles at ${perProfile(input, (view) => {
        const a = view.facts.apis.find((other) => other.node === api.node);
        return a && `${formatNumber(a.rateLimit ?? 0)} requests/s (burst ${formatNumber(a.burstLimit ?? 0)})`;
      })}.`,
  );
  const monitoring = [
    `Alarms: ${perProfile(input, (view) => String(view.facts.alarms))}; dashboards: ${perProfile(input, (view) => String(view.facts.dashboards))}.`,
    ...production.facts.monitoringSchedules.map(
      (schedule) =>
        `${nodeName(schedule.node)} checks the captured traffic on ${code(schedule.expression ?? '-')}: ${perProfile(
          input,
          (view) =>
            view.facts.monitoringSchedules.some((other) => other.node === schedule.node) ? 'on' : 'off',
        )}.`,
    ),
  ];
  return document([
    '## 5 Deploy and monitor',
    constructTable(production.graph, 5),
    'The model endpoint, per profile (read from the synthesized endpoint configuration and its scaling targets):',
    table(['profile', 'endpoint', 'variant', 'traffic', 'hosting'], endpointRows),
    bullets(endpointNotes),
    'Routes:',
    routes,
    bullets([...throttles, ...caches]),
    'Functions:',
    functions,
    bullets(monitoring),
  ]).trimEnd();
}
