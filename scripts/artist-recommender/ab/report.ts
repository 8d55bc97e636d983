/**
 * `npm run ab:report`: the readout of a design's A/B test over a time window, from a local copy of
 * the raw events or from CloudWatch metrics.
 *
 *   npm run ab:report -- --from 2026-12-01T00:00:00Z --to 2026-12-08T00:00:00Z
 *                        (--events-dir DIR | --cloudwatch [--region R])
 *                        [--design artist-recommender] [--alpha 0.05]
 *                        [--planned-ctr 0.05 (--mde 0.1 | --mde-absolute 0.005) [--power 0.8]
 *                         | --planned-sample N] [--json]
 *
 * Exit code 0 when the readout is printed (whatever its verdict), 1 when reading fails, 2 on bad usage.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { existsSync, statSync } from 'node:fs';
import { DESIGNS } from '../../../lib/designs';
import { artistRecommender } from '../../../lib/designs/artist-recommender/design';
import { FEEDBACK_SERVICE_NAME } from '../../../lib/designs/artist-recommender/feedback-loop';
import { metricsNamespace } from '../../../lib/platform/stacks/serving-stack';
import { awsHint, requireRegion } from '../../support/aws';
import { Cli, EXIT, decimal, integer, isoTime, oneOf, runMain, text } from '../../support/cli';
import { readCloudWatchCounts, periodFor } from './cloudwatch-reader';
import {
  count,
  describeEffect,
  effectOption,
  effectProblem,
  percent,
  plannedSample,
  type PlannedSample,
} from '../../ab/effect';
import { readEventsCounts, type EventsSummary } from './events-reader';
import { formatP, readout, type Readout, type VariantCounts } from '../../ab/readout';
import type { Interval } from '../../ab/statistics';

export interface ReportOptions {
  readonly from: Date;
  readonly to: Date;
  readonly source: { readonly kind: 'events'; readonly dir: string } | { readonly kind: 'cloudwatch' };
  readonly design: string;
  readonly alpha: number;
  /** From --planned-sample, or computed from --planned-ctr and the lift. */
  readonly plan?: { readonly perVariant: number; readonly from?: PlannedSample };
  readonly region?: string;
  readonly clicksService?: string;
  readonly json: boolean;
}

/** What `ab:report` prints, as `--json` prints it. */
export interface Report {
  readonly design: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly source: string;
  readonly champion: string;
  readonly plannedSample?: PlannedSample | { readonly perVariant: number };
  readonly readout: Readout;
  readonly events?: EventsSummary;
  readonly cloudwatch?: {
    readonly namespace: string;
    readonly periodSeconds: number;
    readonly calls: number;
    readonly clicksService?: string;
  };
}

/** The command line of `npm run ab:report`. */
export function reportCli(): Cli {
  return new Cli({
    name: 'ab:report',
    usage: 'npm run ab:report --',
    description:
      "Reads a design's A/B test over a window: impressions, clicks, CTR with its Wilson interval per " +
      'variant, and each challenger against the champion (two-proportion z-test, absolute and relative ' +
      'lift with their intervals, planned sample reached or not) with a verdict.',
    notes: [
      'Sources (give one):',
      '  --events-dir DIR  raw events copied from the bucket (aws s3 sync s3://<raw bucket>/raw DIR/raw):',
      '                    recommendation lines are impressions (one per served item), feedback lines',
      '                    with clicked=true on a served item are clicks; unmatched feedback is counted.',
      '                    A relative DIR is taken from the repository root, where npm runs its scripts.',
      '  --cloudwatch      the Impressions and Clicks metrics per Variant in the design namespace.',
      'Lines and metrics count when their time is in [--from, --to). Leave a margin before now: late',
      'feedback and metric delivery fill in the last minutes.',
      '',
      'The planned sample: --planned-sample N, or --planned-ctr with --mde (relative lift) or --mde-absolute',
      '(absolute lift), as npm run ab:plan computes it. Without one, the verdict takes any look at face value.',
      'Verdicts: challenger better | challenger worse | no significant difference | not enough data yet.',
      '',
      'Example:',
      '  npm run ab:report -- --from 2026-12-01T00:00:00Z --to 2026-12-08T00:00:00Z --events-dir ./events \\',
      '    --planned-ctr 0.05 --mde 0.1',
    ].join('\n'),
  })
    .option('--from <time>', 'start of the window, inclusive', isoTime(), undefined, 'none, required')
    .option('--to <time>', 'end of the window, exclusive', isoTime(), undefined, 'none, required')
    .option(
      '--events-dir <dir>',
      'folder holding raw/YYYY/MM/DD/HH/ event files (or that raw/ folder)',
      text('a folder'),
      undefined,
      'none: give --events-dir or --cloudwatch',
    )
    .flag('--cloudwatch', 'read the Impressions and Clicks metrics from CloudWatch instead')
    .regionOption('AWS region to read CloudWatch in (with --cloudwatch)')
    .option(
      '--clicks-service <name>',
      "the Clicks metric's Powertools service dimension (the feedback function's POWERTOOLS_SERVICE_NAME)",
      text('a service name'),
      undefined,
      `${FEEDBACK_SERVICE_NAME}, the recommender's feedback function`,
    )
    .option(
      '--design <id>',
      'design whose A/B test to read',
      oneOf(Object.keys(DESIGNS)),
      artistRecommender.id,
    )
    .option(
      '--alpha <level>',
      'two-sided significance level; intervals are at 1 - alpha',
      decimal(0, 0.5, { exclusiveMin: true }),
      0.05,
    )
    .option(
      '--planned-ctr <rate>',
      "the champion's CTR the test was planned with",
      decimal(0, 1, { exclusiveMin: true }),
      undefined,
      'no plan',
    )
    .option(
      '--mde <lift>',
      'planned minimum detectable lift, RELATIVE (0.1 = +10%)',
      decimal(-1, 100),
      undefined,
      'no plan',
    )
    .option(
      '--mde-absolute <lift>',
      'planned minimum detectable lift, ABSOLUTE in CTR (0.005)',
      decimal(-1, 1),
      undefined,
      'no plan',
    )
    .option('--power <probability>', 'planned power (with --planned-ctr)', decimal(0.5, 0.9999), 0.8)
    .option(
      '--planned-sample <impressions>',
      'planned impressions per variant',
      integer(1, 1e12),
      undefined,
      'no plan',
    )
    .flag('--json', 'print one JSON object instead of the text');
}

interface RawReportOptions {
  from?: Date;
  to?: Date;
  eventsDir?: string;
  cloudwatch: boolean;
  region?: string;
  clicksService?: string;
  design: string;
  alpha: number;
  plannedCtr?: number;
  mde?: number;
  mdeAbsolute?: number;
  power: number;
  plannedSample?: number;
  json: boolean;
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseReportArgs(argv: readonly string[]): ReportOptions {
  const given = (flag: string): boolean => argv.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
  const v = reportCli().parse<RawReportOptions>(argv, (o, problem) => {
    if (o.from === undefined) problem('--from is required: an ISO-8601 time such as 2026-01-31T12:00:00Z');
    if (o.to === undefined) problem('--to is required: an ISO-8601 time such as 2026-01-31T12:00:00Z');
    if (o.from instanceof Date && o.to instanceof Date && o.from.getTime() >= o.to.getTime()) {
      problem(`--to must be after --from (${o.from.toISOString()} >= ${o.to.toISOString()})`);
    }
    if (o.eventsDir !== undefined && o.cloudwatch)
      problem('--events-dir and --cloudwatch exclude each other: give one source');
    if (o.eventsDir === undefined && !o.cloudwatch)
      problem('a source is required: --events-dir DIR or --cloudwatch');
    if (typeof o.eventsDir === 'string' && o.eventsDir !== '' && !isFolder(o.eventsDir)) {
      problem(
        `--events-dir must be a folder, got ${JSON.stringify(o.eventsDir)} (not found or not a folder)`,
      );
    }
    if (o.region !== undefined && !o.cloudwatch) problem('--region applies to --cloudwatch only');
    if (o.clicksService !== undefined && !o.cloudwatch)
      problem('--clicks-service applies to --cloudwatch only');
    if (o.cloudwatch && o.from instanceof Date && periodFor(o.from, new Date()) === undefined) {
      problem('--from is more than 455 days ago: CloudWatch keeps data points 455 days at most');
    }
    const lift = o.mde !== undefined || o.mdeAbsolute !== undefined;
    if (o.plannedSample !== undefined && (o.plannedCtr !== undefined || lift)) {
      problem(
        '--planned-sample excludes --planned-ctr, --mde and --mde-absolute: give the sample or what it is computed from',
      );
    } else if (o.plannedCtr !== undefined) {
      const effect = effectOption(o.mde, o.mdeAbsolute, problem);
      if (typeof o.plannedCtr === 'number' && effect && typeof effect.value === 'number') {
        if (o.plannedCtr >= 1) problem('--planned-ctr must be below 1');
        else {
          const bad = effectProblem(o.plannedCtr, effect);
          if (bad) problem(bad);
        }
      }
    } else if (lift) {
      problem(`${o.mde !== undefined ? '--mde' : '--mde-absolute'} needs --planned-ctr, the CTR it lifts`);
    }
    if (given('--power') && o.plannedCtr === undefined) problem('--power applies with --planned-ctr only');
  });
  const effect = v.plannedCtr !== undefined ? effectOption(v.mde, v.mdeAbsolute, () => undefined) : undefined;
  const planned =
    v.plannedCtr !== undefined && effect ? plannedSample(v.plannedCtr, effect, v.alpha, v.power) : undefined;
  return {
    from: v.from!,
    to: v.to!,
    source: v.cloudwatch ? { kind: 'cloudwatch' } : { kind: 'events', dir: v.eventsDir! },
    design: v.design,
    alpha: v.alpha,
    ...(planned ? { plan: { perVariant: planned.perVariant, from: planned } } : {}),
    ...(v.plannedSample !== undefined ? { plan: { perVariant: v.plannedSample } } : {}),
    ...(v.region ? { region: v.region } : {}),
    ...(v.clicksService ? { clicksService: v.clicksService } : {}),
    json: v.json,
  };
}

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

export interface ReportClients {
  /** Built on demand: an events-folder run needs no AWS configuration. */
  cloudwatch: () => Promise<CloudWatchClient>;
}

export async function report(options: ReportOptions, clients: ReportClients): Promise<Report> {
  const design = DESIGNS[options.design];
  const variantNames = design.abVariants.map((v) => v.name);
  const champion = variantNames[0];
  const window = { from: options.from, to: options.to };
  let counts: readonly VariantCounts[];
  let source: string;
  let extra: Pick<Report, 'events' | 'cloudwatch'>;
  if (options.source.kind === 'events') {
    const read = await readEventsCounts(options.source.dir, window, variantNames);
    counts = read.variants;
    source = `events in ${options.source.dir}`;
    extra = { events: read.summary };
  } else {
    const namespace = metricsNamespace(design.id);
    const read = await readCloudWatchCounts(await clients.cloudwatch(), {
      namespace,
      variants: variantNames,
      ...window,
      clicksService: options.clicksService ?? FEEDBACK_SERVICE_NAME,
    });
    counts = read.variants;
    source = `CloudWatch metrics in ${namespace}`;
    extra = {
      cloudwatch: {
        namespace,
        periodSeconds: read.periodSeconds,
        calls: read.calls,
        clicksService: options.clicksService ?? FEEDBACK_SERVICE_NAME,
      },
    };
  }
  return {
    design: design.id,
    window: { from: options.from.toISOString(), to: options.to.toISOString() },
    source,
    champion,
    ...(options.plan ? { plannedSample: options.plan.from ?? { perVariant: options.plan.perVariant } } : {}),
    readout: readout(counts, champion, {
      alpha: options.alpha,
      ...(options.plan ? { plannedSamplePerVariant: options.plan.perVariant } : {}),
    }),
    ...extra,
  };
}

const interval = (i: Interval | undefined, format: (x: number) => string): string =>
  i ? `[${format(i.lower)}, ${format(i.upper)}]` : 'n/a';
const points = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(3)} pts`;
const relative = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

export function formatReport(result: Report): string[] {
  const { readout: r } = result;
  const level = `${Math.round(r.confidence * 1000) / 10}%`;
  const rows = r.variants.map((v) => [
    v.variant === result.champion ? `${v.variant} *` : v.variant,
    count(v.impressions),
    count(v.clicks),
    percent(v.ctr, 3),
    interval(v.impressions > 0 ? v.ctrInterval : undefined, (x) => percent(x, 3)),
  ]);
  const header = ['variant', 'impressions', 'clicks', 'CTR', `${level} Wilson interval`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
  const out = [
    `A/B readout for ${result.design}, ${result.window.from} to ${result.window.to}`,
    `source: ${result.source}`,
  ];
  if (result.plannedSample) {
    const plan = result.plannedSample;
    out.push(
      `planned sample: ${count(plan.perVariant)} impressions per variant` +
        ('effect' in plan ? `, for ${describeEffect(plan)} at alpha ${plan.alpha}, power ${plan.power}` : ''),
    );
  } else {
    out.push('planned sample: none given');
  }
  out.push('', line(header), ...rows.map(line), `  (* champion)`);
  for (const c of r.comparisons) {
    out.push('', `${c.challenger} vs ${c.champion}:`);
    if (c.z !== undefined && c.pValue !== undefined) {
      out.push(`  z = ${c.z.toFixed(3)}, two-sided p = ${formatP(c.pValue)}`);
      out.push(
        `  absolute lift ${points(c.absoluteLift!)}, ${level} CI ${interval(c.absoluteLiftInterval, points)} (Newcombe)`,
      );
      out.push(
        `  relative lift ${c.relativeLift === undefined ? 'n/a' : relative(c.relativeLift)}, ${level} CI ` +
          `${interval(c.relativeLiftInterval, relative)} (log ratio)`,
      );
    }
    if (c.plannedSampleReached !== undefined) {
      out.push(
        `  planned sample: ${c.plannedSampleReached ? 'reached by both variants' : 'not reached yet by both variants'}`,
      );
    }
    out.push(`  verdict: ${c.verdict} (${c.reason})`);
  }
  if (result.events) {
    const e = result.events;
    const unmatched = Object.entries(e.unmatched)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    out.push(
      '',
      `events: ${e.files} files, ${count(e.lines)} lines, ${count(e.servedLists)} served lists in the window, ` +
        `${count(e.feedback)} feedback items in the window, ${count(e.clicks)} clicks matched`,
      `  unmatched feedback: ${unmatched} (${e.unmatchedClicks} of them clicks, not counted)`,
      `  duplicates skipped: ${e.duplicateLines} lines, ${e.duplicateItems} repeated items; other event types: ${e.otherLines}`,
      `  invalid lines: ${e.invalidLines}${e.invalidExamples.length ? `, e.g. ${e.invalidExamples.join('; ')}` : ''}`,
    );
    if (e.skippedFiles.length)
      out.push(`  files outside raw/YYYY/MM/DD/HH/, not read: ${e.skippedFiles.join(', ')}`);
  }
  if (result.cloudwatch) {
    out.push(
      '',
      `cloudwatch: ${result.cloudwatch.calls} GetMetricData call(s), Sum over ${result.cloudwatch.periodSeconds} s periods ` +
        '(the window is counted in whole periods)',
    );
  }
  return out;
}

if (require.main === module) {
  runMain(
    'ab:report',
    async () => {
      const options = parseReportArgs(process.argv.slice(2));
      const result = await report(options, {
        cloudwatch: async () => {
          const client = new CloudWatchClient(options.region ? { region: options.region } : {});
          const region = await requireRegion(client);
          if (!options.json) console.error(`region: ${region}`);
          return client;
        },
      });
      console.log(options.json ? JSON.stringify(result, null, 2) : formatReport(result).join('\n'));
      return EXIT.ok;
    },
    awsHint,
  );
}
