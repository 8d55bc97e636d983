import { featureEngineOf } from '../../../lib/platform/config/feature-engine';
import { checkGoal } from '../../../lib/platform/pricing/estimate';
import { money } from '../../../lib/platform/pricing/report';
import { PRICES_AS_OF } from '../../../lib/platform/pricing/us-east-1';
import { stepLabel } from '../graph/framework-steps';
import { crossStackEdges, DIAGRAM_OMITS, diagramGraph, type ArchitectureGraph } from '../graph/model';
import { hosting } from './deploy-section';
import { bullets, bytes, code, document, duration, formatNumber, table } from './markdown';
import { nodeName, perProfile, profileNames, type PageInput, type ProfileView } from './page-input';

/** Step 6: the diagram, the stacks, what differs between profiles, the bottlenecks and how each part scales. */
export function wrapUpSection(input: PageInput): string {
  const view = input.profiles[input.diagramProfile];
  const full = view.graph;
  const drawn = diagramGraph(full);
  const omitted = DIAGRAM_OMITS.map((kind) => {
    const count = full.edges.filter((edge) => edge.kinds.includes(kind)).length;
    return `${count} ${code(kind)}`;
  }).join(' and ');
  const nodesPerStack = (role: string) => full.nodes.filter((node) => node.stack === role).length;
  const stacks = table(
    ['stack', 'name', 'step', 'constructs', 'resources', 'description'],
    full.stacks.map((stack) => [
      stack.role,
      code(stack.name),
      stepLabel(stack.role) ?? 'every step',
      String(nodesPerStack(stack.role)),
      String(stack.resourceCount),
      ownDescription(stack.description, input),
    ]),
  );
  return document([
    '## 6 Wrap up: bottlenecks and scaling',
    `The architecture of the ${input.diagramProfile} profile, drawn from the synthesized app: ${drawn.nodes.length} constructs in ${drawn.stacks.length} stacks, ${drawn.edges.length} connections (${crossStackEdges(drawn).length} between stacks). A node is a construct that owns a meaningful resource, with the roles, logs, alarms and rules it made for it; an edge is a reference in the templates (IAM statements, environment variables, integrations, state machine tasks, schedules, security group rules, subscriptions, deliveries, alarm actions), labelled with its kinds. Left out of the drawing: ${omitted} connections.`,
    `![Architecture of the ${input.diagramProfile} profile](${input.svgFile})`,
    `<details><summary>The same diagram in Mermaid</summary>\n\n\`\`\`mermaid\n${input.mermaid.trimEnd()}\n\`\`\`\n\n</details>`,
    stacks,
    profileDifferences(input),
    'Bottlenecks, and how each part scales:',
    table(['part', 'limit', 'past it', 'how it scales'], bottlenecks(input)),
    costs(input),
  ]).trimEnd();
}

/** What each profile costs while idle, what bills most, and the endpoint hardware against GPUs. */
function costs(input: PageInput): string {
  const rows = profileNames.map((name) => {
    const { estimate } = input.profiles[name];
    const largest = estimate.stacks
      .flatMap((stack) => stack.resources)
      .filter((r) => r.idleMonthly + r.scheduledMonthly > 0)
      .sort((a, b) => b.idleMonthly + b.scheduledMonthly - (a.idleMonthly + a.scheduledMonthly))
      .slice(0, 3)
      .map((r) => `${code(r.path)} ${money(r.idleMonthly + r.scheduledMonthly)}`);
    const goal = name === 'sandbox' ? checkGoal(estimate) : undefined;
    return [
      name,
      money(estimate.totalMonthly),
      money(estimate.scheduledMonthly),
      largest.join(', '),
      goal ? (goal.met ? `<= ${money(goal.goalMonthly)}: met` : `<= ${money(goal.goalMonthly)}: above`) : '-',
    ];
  });
  const hardware = input.profiles[input.diagramProfile].config.capacity.endpointHardware;
  return document([
    `What it costs while idle (\`npm run cost -- -c design=${input.design.id}\` lists every resource; us-east-1 list prices of ${PRICES_AS_OF}, scheduled runs at their longest):`,
    table(['profile', 'idle / month', 'of it scheduled runs', 'largest', 'sandbox goal'], rows),
    hardware &&
      `The ${input.diagramProfile} endpoint runs on ${hardware.minInstances} x ${hardware.instanceType} per variant (${money(hardware.monthlyUsd.idle)} a month idle), chosen from the model's measured cost per request: ${hardware.why}. On ${hardware.gpuBaseline.instanceType} GPUs the same load would idle at ${money(hardware.gpuBaseline.monthlyUsd.idle)} a month.`,
  ]).trimEnd();
}

/**
 * A stack's description without what every stack of the design repeats (the design's summary before
 * it, the profile after it).
 */
function ownDescription(description: string, input: PageInput): string {
  const prefix = `${input.design.summary}: `;
  const suffix = ` (${input.diagramProfile})`;
  let own = description.startsWith(prefix) ? description.slice(prefix.length) : description;
  if (own.endsWith(suffix)) own = own.slice(0, -suffix.length);
  return own;
}

/** Constructs and connections one profile has and the other has not. */
function profileDifferences(input: PageInput): string {
  const [first, second] = profileNames.map((name) => diagramGraph(input.profiles[name].graph));
  const nodes = (graph: ArchitectureGraph) => new Set(graph.nodes.map((node) => node.id));
  const edges = (graph: ArchitectureGraph) =>
    new Set(graph.edges.map((edge) => `${edge.from} -> ${edge.to}`));
  const only = (a: Set<string>, b: Set<string>) => [...a].filter((item) => !b.has(item)).sort();
  const lines = [
    ...only(nodes(first), nodes(second)).map((id) => `construct ${nodeName(id)} only in ${profileNames[0]}`),
    ...only(nodes(second), nodes(first)).map((id) => `construct ${nodeName(id)} only in ${profileNames[1]}`),
    ...only(edges(first), edges(second)).map((edge) => `connection ${code(edge)} only in ${profileNames[0]}`),
    ...only(edges(second), edges(first)).map((edge) => `connection ${code(edge)} only in ${profileNames[1]}`),
  ];
  if (lines.length === 0)
    return `Both profiles have the same constructs and connections; they differ in sizes only.`;
  return document(['What differs in structure between the profiles:', bullets(lines)]).trimEnd();
}

function bottlenecks(input: PageInput): string[][] {
  const production = input.profiles[input.diagramProfile];
  const capacity = production.config.capacity;
  const rows: string[][] = [];
  const find =
    <T extends { node: string }>(list: (v: ProfileView) => readonly T[], node: string) =>
    (v: ProfileView) =>
      list(v).find((item) => item.node === node);

  for (const api of production.facts.apis) {
    const of = find((v) => v.facts.apis, api.node);
    rows.push([
      nodeName(api.node),
      perProfile(
        input,
        (v) =>
          of(v) &&
          `${formatNumber(of(v)!.rateLimit ?? 0)} requests/s, burst ${formatNumber(of(v)!.burstLimit ?? 0)}`,
      ),
      'API Gateway answers 429',
      `the sized peak x 1.25 (${code('deriveCapacity')}): a higher ${code('peakRequestsPerSecond')} raises it`,
    ]);
  }
  for (const fn of production.facts.functions.filter((f) => f.reservedConcurrency !== undefined)) {
    rows.push([
      nodeName(fn.node),
      perProfile(input, (v) => {
        const found = find((x) => x.facts.functions, fn.node)(v);
        return (
          found &&
          (found.reservedConcurrency === undefined
            ? 'none reserved'
            : `${formatNumber(found.reservedConcurrency)} concurrent executions`)
        );
      }),
      'Lambda throttles the excess',
      `rate limit x p99 x 2, reserved so no other function takes it; the account's concurrency quota bounds the sum`,
    ]);
  }
  for (const endpoint of production.facts.endpoints) {
    const of = find((v) => v.facts.endpoints, endpoint.node);
    rows.push([
      nodeName(endpoint.node),
      perProfile(input, (v) => {
        const e = of(v);
        return e && e.variants.map((variant) => `${variant.name}: ${hosting(e, variant)}`).join('; ');
      }),
      `requests wait past the model timeout (${formatNumber(capacity.modelTimeoutMs)} ms) and the fallback answers`,
      `target tracking adds instances up to the maximum, sized for ${formatNumber(capacity.modelRequestsPerSecond, 1)} model requests/s with one variant taking all of them`,
    ]);
  }
  for (const cache of production.facts.caches) {
    const of = find((v) => v.facts.caches, cache.node);
    rows.push([
      nodeName(cache.node),
      perProfile(input, (v) => {
        const c = of(v);
        if (!c) return undefined;
        const limits = [
          c.maxDataStorageGb === undefined ? undefined : `${formatNumber(c.maxDataStorageGb)} GB`,
          c.maxEcpuPerSecond === undefined ? undefined : `${formatNumber(c.maxEcpuPerSecond)} ECPU/s`,
        ].filter(Boolean);
        return limits.length > 0 ? limits.join(', ') : 'no cap';
      }),
      'a capped cache throttles; a miss goes to the model endpoint',
      'ElastiCache Serverless adds compute and storage by itself up to the cap',
    ]);
  }
  const choice = featureEngineOf(input.design);
  if (choice) {
    const cutoff = production.facts.lakes[0]?.bytesScannedCutoffPerQuery;
    rows.push([
      'feature build',
      `PostgreSQL up to ${formatNumber(choice.thresholdEvents)} events read per build; this design reads ${formatNumber(choice.eventsRead)}`,
      "a build on the database's one writer outgrows a function's 15 minutes",
      `the event lake (Athena) takes over past the threshold, chosen at synth from the requirements${cutoff === undefined ? '' : `; a query stops past ${bytes(cutoff)} scanned`}`,
    ]);
  }
  for (const database of production.facts.databases) {
    const of = find((v) => v.facts.databases, database.node);
    rows.push([
      nodeName(database.node),
      perProfile(
        input,
        (v) => of(v) && `${formatNumber(of(v)!.minAcu ?? 0)}-${formatNumber(of(v)!.maxAcu ?? 0)} ACU`,
      ),
      'one writer: writes wait for it',
      'ACUs follow the load within the range; readers take reads',
    ]);
  }
  for (const stream of production.facts.streams) {
    const of = find((v) => v.facts.streams, stream.node);
    rows.push([
      nodeName(stream.node),
      perProfile(
        input,
        (v) =>
          of(v) &&
          `buffers ${formatNumber(of(v)!.bufferSeconds ?? 0)} s or ${formatNumber(of(v)!.bufferMb ?? 0)} MB`,
      ),
      'data arrives later, not lost',
      'Firehose scales its throughput by itself; the buffer sets how fresh the raw data is',
    ]);
  }
  production.facts.trainingJobs.forEach((job, i) => {
    rows.push([
      nodeName(job.node),
      perProfile(input, (v) => {
        const j = v.facts.trainingJobs[i];
        return (
          j &&
          `${j.instanceType} x ${j.instanceCount ?? 1}${j.maxRuntimeSeconds === undefined ? '' : `, at most ${duration(j.maxRuntimeSeconds)}`}`
        );
      }),
      'a run past the limit is stopped and the champion stays',
      `more instances train data parallel (${code('instanceCount')} > 1)`,
    ]);
  });
  return rows;
}
