/**
 * How `npm run cost` shows an estimate: as text (every resource, then totals), as one JSON object,
 * or as the Markdown tables README.md carries (test/readme/costs.test.ts checks they match).
 */
import type { EndpointHardwareChoice } from '../config/endpoint-hardware';
import { usd, type Rate } from './cost-models';
import { checkGoal, type Estimate, type GoalCheck, type ResourceCost } from './estimate';
import { PRICES_SOURCE as SAGEMAKER_PRICES_SOURCE } from './sagemaker-instances';
import { PRICES, PRICES_AS_OF, PRICES_REGION, type Price, type PriceName } from './us-east-1';

export interface DeploymentEstimate {
  readonly design: string;
  readonly profile: string;
  readonly estimate: Estimate;
  /**
   * The endpoint hardware chosen from the model's measured cost (instance-hosted profiles only), with
   * the GPU fleet it replaced, for the before-and-after.
   */
  readonly hardware?: EndpointHardwareChoice;
}

/** Dollars as the tables show them: cents, or three significant digits below a cent. */
export function money(usd: number): string {
  if (usd === 0) return '$0';
  if (Math.abs(usd) < 0.01) return `$${Number(usd.toPrecision(3))}`;
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

const rateText = (rate: Rate) => `${usd(rate.usd)} per ${rate.per}`;
const role = (stack: string) => stack.split('-').pop() ?? stack;

/** The sandbox's goal check; production has none. */
export function goalOf(deployment: DeploymentEstimate): GoalCheck | undefined {
  return deployment.profile === 'sandbox' ? checkGoal(deployment.estimate) : undefined;
}

export function renderText(deployments: readonly DeploymentEstimate[]): string {
  const out: string[] = [];
  for (const deployment of deployments) {
    const { estimate } = deployment;
    out.push(
      `${deployment.design}, ${deployment.profile} (${PRICES_REGION} list prices of ${PRICES_AS_OF}, USD)`,
      '',
    );
    for (const stack of estimate.stacks) {
      out.push(`${stack.name}: ${money(stack.totalMonthly)} a month idle`);
      // What bills while idle first, largest first; then the rest in template order.
      const monthly = (r: ResourceCost) => r.idleMonthly + r.scheduledMonthly;
      const ordered = [...stack.resources].sort((a, b) => monthly(b) - monthly(a));
      for (const r of ordered) {
        const cost = r.status === 'unknown' ? 'UNKNOWN' : money(r.idleMonthly + r.scheduledMonthly);
        out.push(`  ${cost.padStart(9)}  ${r.path} (${r.type}): ${r.basis}`);
        if (r.recurring) {
          out.push(
            `             scheduled ${r.recurring.cadence}: ${r.recurring.what}; at most ${money(r.recurring.perRun)} a run, ${money(r.recurring.monthly)} a month`,
          );
        }
        if (r.rates.length > 0) out.push(`             per use: ${r.rates.map(rateText).join('; ')}`);
        for (const note of r.notes) out.push(`             note: ${note}`);
      }
      out.push('');
    }
    out.push(
      `Idle total: ${money(estimate.totalMonthly)} a month (always on ${money(estimate.idleMonthly)}, scheduled runs at most ${money(estimate.scheduledMonthly)})`,
    );
    if (estimate.freeTierMonthly > 0) {
      out.push(
        `  of which the account's always-free allowances (10 alarm metrics, 3 dashboards) cover up to ${money(estimate.freeTierMonthly)}, if nothing else in the account uses them`,
      );
    }
    const goal = goalOf(deployment);
    if (goal) out.push(goalText(goal));
    if (deployment.hardware) out.push(hardwareText(deployment.hardware));
    if (estimate.unknown.length > 0) {
      out.push(`UNKNOWN: ${estimate.unknown.length} resource(s) not priced, so the total is too low:`);
      for (const r of estimate.unknown) out.push(`  ${r.stack} ${r.path} (${r.type}): ${r.reason}`);
    }
    out.push('', '');
  }
  return out.join('\n').trimEnd() + '\n';
}

const fleetText = (f: { minInstances: number; instanceType: string }, variants: number) =>
  `${f.minInstances} x ${f.instanceType} per variant x ${variants} variant${variants === 1 ? '' : 's'}`;

/** The endpoint's hardware before and after it was chosen from the model's measured cost. */
function hardwareText(h: EndpointHardwareChoice): string {
  const saved = h.gpuBaseline.monthlyUsd.idle - h.monthlyUsd.idle;
  return [
    `Endpoint hardware, chosen from the model's measured cost per request (lib/platform/config/endpoint-hardware.ts):`,
    `  now:    ${fleetText(h, h.variants)}, ${money(h.monthlyUsd.idle)} a month idle (${money(h.monthlyUsd.peak)} at the sized peak); p99 ${Number(h.p99Ms.toPrecision(2))} ms against a ${h.latencyBudgetMs} ms budget${h.meetsLatency ? '' : ': MISSES IT'}`,
    `  before: ${fleetText(h.gpuBaseline, h.variants)}, ${money(h.gpuBaseline.monthlyUsd.idle)} a month idle; ${saved >= 0 ? `${money(saved)} a month saved` : `${money(-saved)} a month more`}`,
    `  why: ${h.why}`,
  ].join('\n');
}

function goalText(goal: GoalCheck): string {
  if (goal.met)
    return `Sandbox goal <= ${money(goal.goalMonthly)} a month idle: met (${money(goal.totalMonthly)}).`;
  const names = goal.above.map((r) => `${r.path} (${money(r.idleMonthly + r.scheduledMonthly)})`).join(', ');
  return `Sandbox goal <= ${money(goal.goalMonthly)} a month idle: above by ${money(goal.totalMonthly - goal.goalMonthly)}; what puts it above, largest first: ${names}.`;
}

export function toJson(deployments: readonly DeploymentEstimate[]): object {
  return {
    region: PRICES_REGION,
    pricesAsOf: PRICES_AS_OF,
    currency: 'USD',
    deployments: deployments.map((d) => {
      const goal = goalOf(d);
      return {
        design: d.design,
        profile: d.profile,
        totalMonthly: d.estimate.totalMonthly,
        idleMonthly: d.estimate.idleMonthly,
        scheduledMonthly: d.estimate.scheduledMonthly,
        freeTierMonthly: d.estimate.freeTierMonthly,
        ...(goal
          ? {
              goal: {
                goalMonthly: goal.goalMonthly,
                met: goal.met,
                above: goal.above.map((r) => ({
                  stack: r.stack,
                  path: r.path,
                  type: r.type,
                  monthly: r.idleMonthly + r.scheduledMonthly,
                })),
              },
            }
          : {}),
        unknown: d.estimate.unknown.map(({ stack, logicalId, path, type, reason }) => ({
          stack,
          logicalId,
          path,
          type,
          reason,
        })),
        stacks: d.estimate.stacks,
        ...(d.hardware ? { hardware: d.hardware } : {}),
      };
    }),
  };
}

// --- README tables -----------------------------------------------------------------------------

/** Resource types the README tables show as one row each (many small charges of one kind). */
const GROUPED_TYPES: Readonly<Record<string, string>> = {
  'AWS::CloudWatch::Alarm': 'CloudWatch alarms',
};

export interface MarkdownTable {
  /** The heading above the table, without its `#`s. */
  readonly heading: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** The README's heading for one deployment's table. */
export function tableHeading(d: DeploymentEstimate): string {
  return `${d.design}, ${d.profile}: ${money(d.estimate.totalMonthly)} a month idle`;
}

/** One deployment's table: every resource that bills while idle, grouped where many, and the total. */
export function deploymentTable(d: DeploymentEstimate): MarkdownTable {
  const resources = d.estimate.stacks.flatMap((s) => s.resources);
  const rows: string[][] = [];
  const grouped = new Map<string, ResourceCost[]>();
  for (const r of resources) {
    if (r.idleMonthly + r.scheduledMonthly <= 0) continue;
    if (GROUPED_TYPES[r.type]) grouped.set(r.type, [...(grouped.get(r.type) ?? []), r]);
    else rows.push([`${role(r.stack)}: ${r.path}`, money(r.idleMonthly + r.scheduledMonthly), howText(r)]);
  }
  for (const [type, group] of grouped) {
    const total = group.reduce((a, r) => a + r.idleMonthly, 0);
    const metrics = Math.round(total / PRICES.alarmMetricMonth.usd);
    rows.push([
      `${group.length} ${GROUPED_TYPES[type]}`,
      money(total),
      `${metrics} alarm metrics x ${money(PRICES.alarmMetricMonth.usd)}; the account's first 10 are free`,
    ]);
  }
  rows.sort((a, b) => parseMoney(b[1]) - parseMoney(a[1]) || a[0].localeCompare(b[0]));
  const goal = goalOf(d);
  const notes = [
    d.estimate.scheduledMonthly > 0
      ? `always on ${money(d.estimate.idleMonthly)} + scheduled runs at most ${money(d.estimate.scheduledMonthly)}`
      : '',
    goal
      ? goal.met
        ? `goal <= ${money(goal.goalMonthly)}: met`
        : `goal <= ${money(goal.goalMonthly)}: above by ${money(goal.totalMonthly - goal.goalMonthly)}`
      : '',
    d.estimate.freeTierMonthly > 0
      ? `up to ${money(d.estimate.freeTierMonthly)} of it is the account's free tier`
      : '',
    d.estimate.unknown.length > 0 ? `${d.estimate.unknown.length} resources not priced` : '',
  ].filter(Boolean);
  rows.push(['**total**', `**${money(d.estimate.totalMonthly)}**`, notes.join('; ')]);
  return { heading: tableHeading(d), header: ['resource', 'idle / month', 'how it is computed'], rows };
}

function howText(r: ResourceCost): string {
  if (!r.recurring) return r.basis;
  return `${r.recurring.cadence}, at most ${money(r.recurring.perRun)} a run: ${r.recurring.what}`;
}

function parseMoney(text: string): number {
  return Number(text.replace(/[^0-9.]/g, '')) || 0;
}

/** The unit prices the README lists, with what each is for. */
const UNIT_PRICES: readonly (readonly [PriceName, string])[] = [
  ['restApiMillionRequests', 'API Gateway REST API, per million requests'],
  ['lambdaMillionRequests', 'Lambda, per million requests'],
  ['lambdaArmGbSecond', 'Lambda on Arm, per GB-second of run time'],
  ['stepFunctionsThousandTransitions', 'Step Functions (Standard), per 1,000 state transitions'],
  ['firehoseGb', 'Firehose, per GB ingested (each record rounded up to 5 KB)'],
  ['s3StandardGbMonth', 'S3 Standard, per GB-month'],
  ['athenaTbScanned', 'Athena, per TB scanned (at least 10 MB a query)'],
  ['valkeyServerlessGbHour', 'ElastiCache Serverless (Valkey), per GB-hour stored (100 MB minimum)'],
  ['valkeyServerlessMillionEcpu', 'ElastiCache Serverless (Valkey), per million ECPUs'],
  ['auroraServerlessV2AcuHour', 'Aurora Serverless v2, per ACU-hour'],
  ['auroraStorageGbMonth', 'Aurora, per GB-month stored'],
  ['featureStoreMillionWriteUnits', 'Feature Store online store, per million write units (1 KB)'],
  ['featureStoreMillionReadUnits', 'Feature Store online store, per million read units (4 KB)'],
  ['serverlessInferenceGbSecond', 'SageMaker serverless inference, per GB-second (memory x run time)'],
  ['inferenceDataGb', 'SageMaker inference, per GB of data in or out'],
  ['interfaceEndpointAzHour', 'Interface VPC endpoint, per AZ-hour'],
  ['kmsKeyMonth', 'KMS customer managed key, per month'],
  ['secretMonth', 'Secrets Manager secret, per month'],
  ['alarmMetricMonth', 'CloudWatch standard alarm, per alarm metric-month (10 free)'],
  ['dashboardMonth', 'CloudWatch dashboard, per month (3 free)'],
];

/** The per-unit prices that matter most for these designs, and the instance hours their templates name. */
export function unitPriceTable(deployments: readonly DeploymentEstimate[]): MarkdownTable {
  const source = (url: string) => url.replace(/^https:\/\//, '').replace(/\/$/, '');
  const rows: string[][] = UNIT_PRICES.map(([name, label]) => {
    const price: Price = PRICES[name];
    return [label, usd(price.usd), `${source(price.source)}${price.unconfirmed ? ' (not re-checked)' : ''}`];
  });
  const instanceRates = new Map<string, number>();
  for (const d of deployments) {
    for (const r of d.estimate.stacks.flatMap((s) => s.resources)) {
      for (const rate of r.rates) {
        const instance = /ml\.[a-z0-9]+\.[a-z0-9]+/.exec(rate.per)?.[0];
        if (!instance) continue;
        if (rate.per.startsWith('instance-hour'))
          instanceRates.set(`SageMaker hosting, per instance-hour (${instance})`, rate.usd);
        else if (rate.per.startsWith('training hour'))
          instanceRates.set(`SageMaker training, per hour (${instance})`, rate.usd);
        else if (rate.per.startsWith('processing hour'))
          instanceRates.set(`SageMaker processing, per hour (${instance})`, rate.usd);
      }
    }
  }
  for (const [label, price] of [...instanceRates].sort(([a], [b]) => a.localeCompare(b))) {
    rows.push([
      label,
      usd(price),
      `${source(SAGEMAKER_PRICES_SOURCE)} (lib/platform/pricing/sagemaker-instances.ts)`,
    ]);
  }
  return {
    heading: `Prices per unit of use (${PRICES_REGION}, ${PRICES_AS_OF})`,
    header: ['what', 'price', 'source'],
    rows,
  };
}

/** A table as prettier lays it out (cells padded, the cost column right-aligned), so a paste needs no formatting. */
export function markdownTable(table: MarkdownTable, level = 4): string {
  const RIGHT = 1;
  const cells = [table.header, ...table.rows].map((row) => row.map((text) => text.replace(/\|/g, '\\|')));
  const widths = table.header.map((_, i) => Math.max(3, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((text, i) => (i === RIGHT ? text.padStart(widths[i]) : text.padEnd(widths[i]))).join(' | ')} |`;
  const delimiter = `| ${widths.map((w, i) => (i === RIGHT ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  const [header, ...rows] = cells;
  return [`${'#'.repeat(level)} ${table.heading}`, '', line(header), delimiter, ...rows.map(line)].join('\n');
}

/** The endpoint hardware of every instance-hosted deployment, against the GPU fleet it replaced. */
export function hardwareTable(deployments: readonly DeploymentEstimate[]): MarkdownTable {
  const rows = deployments.flatMap((d) => {
    const h = d.hardware;
    if (!h) return [];
    return [
      [
        `${d.design}, ${d.profile}`,
        money(h.monthlyUsd.idle),
        fleetText(h, h.variants),
        `${Number(h.p99Ms.toPrecision(2))} ms of ${h.latencyBudgetMs} ms${h.meetsLatency ? '' : ' (misses it)'}`,
        money(h.gpuBaseline.monthlyUsd.idle),
        fleetText(h.gpuBaseline, h.variants),
      ],
    ];
  });
  return {
    heading: 'Endpoint hardware from the measured cost per request, against GPUs',
    header: [
      'deployment',
      'idle / month',
      'endpoint',
      'model p99 of budget',
      'on GPUs, idle / month',
      'GPU fleet',
    ],
    rows,
  };
}

/** What `--markdown` prints: the README's generated tables, to paste over the old ones. */
export function renderMarkdown(deployments: readonly DeploymentEstimate[]): string {
  const hardware = hardwareTable(deployments);
  const tables = [
    ...deployments.map(deploymentTable),
    ...(hardware.rows.length > 0 ? [hardware] : []),
    unitPriceTable(deployments),
  ];
  return `${tables.map((t) => markdownTable(t)).join('\n\n')}\n`;
}
