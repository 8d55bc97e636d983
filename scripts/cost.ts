/**
 * `npm run cost -- [-c design=<id>] [-c profile=sandbox|production] [--json | --markdown]`: what a
 * deployment costs a month while nobody uses it, and what each unit of use costs, per resource of
 * the synthesized templates, priced from lib/platform/pricing/ (us-east-1 list prices, dated).
 *
 * The app is built in-process, as `cdk synth` builds it (cdk.json's context, then `-c` values), or
 * read from a cloud assembly `cdk synth -o <dir>` wrote (`--app <dir>`). Without `-c design`, every
 * registered design; without `-c profile`, both profiles: the sandbox's figure means little without
 * production's beside it. A sandbox is checked against its goal of $15 a month idle.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Option } from 'commander';
import { hideBundlingLines } from '../bin/bundling-output';
import { DESIGNS } from '../lib/designs';
import { addBlueprintStacks } from '../lib/platform/blueprint';
import { resolveAppConfig } from '../lib/platform/config/app-config';
import { PROFILE_NAMES } from '../lib/platform/config/profile';
import { SANDBOX_IDLE_GOAL_USD, estimate } from '../lib/platform/pricing/estimate';
import { renderMarkdown, renderText, toJson, type DeploymentEstimate } from '../lib/platform/pricing/report';
import { assemblyTemplates, stackTemplates, taggedDeployment } from '../lib/platform/pricing/synthesized';
import { PRICES_AS_OF, PRICES_REGION } from '../lib/platform/pricing/us-east-1';
import { Cli, EXIT, runMain, text } from './support/cli';

const ROOT = join(__dirname, '..');
/** Exit code when some resource has no price: the totals are then too low. */
export const EXIT_UNKNOWN = 3;

interface Options {
  readonly context: readonly string[];
  readonly app?: string;
  readonly json: boolean;
  readonly markdown: boolean;
}

export interface CostArgs {
  readonly designs: readonly string[];
  readonly profiles: readonly string[];
  /** Every `-c key=value`, design and profile included, as cdk passes them to the app. */
  readonly context: Readonly<Record<string, string>>;
  readonly app?: string;
  readonly format: 'text' | 'json' | 'markdown';
}

export function costCli(): Cli {
  const cli = new Cli({
    name: 'cost',
    usage: 'npm run cost --',
    description: `What each deployment costs a month while idle, and per unit of use, resource by resource (${PRICES_REGION} list prices of ${PRICES_AS_OF}).`,
    notes: [
      'Without -c design=<id>, every registered design; without -c profile=<name>, both profiles.',
      `Designs: ${Object.keys(DESIGNS).join(', ')}. Profiles: ${PROFILE_NAMES.join(', ')}.`,
      `A sandbox is compared with its goal of $${SANDBOX_IDLE_GOAL_USD} a month idle; when above, the resources that put it above are named.`,
      'Idle means no traffic: hourly and monthly charges, plus what schedules start on their own (at most:',
      'each job at its stopping condition, on demand). Free tiers are not subtracted; the output says how much',
      'of the total they could cover. Prices: lib/platform/pricing/us-east-1.ts and sagemaker-instances.ts.',
      '',
      'Examples:',
      `  npm run cost -- -c design=${Object.keys(DESIGNS)[0]} -c profile=sandbox`,
      '  npm run cost -- --json',
      '  npm run cost -- --markdown        # the tables of README.md "Costs"',
      `  npx cdk synth --quiet -o /tmp/out -c design=${Object.keys(DESIGNS)[0]} && npm run cost -- --app /tmp/out`,
    ].join('\n'),
    exitCodes: { [EXIT_UNKNOWN]: 'some resource has no cost model or price: the totals are too low' },
  })
    .option(
      '--app <dir>',
      'read the templates of a synthesized cloud assembly instead of building the app',
      text('a folder cdk synth wrote'),
      undefined,
      'build the app in-process',
    )
    .flag('--json', 'print one JSON object')
    .flag('--markdown', "print the README's cost tables");
  cli.program.addOption(
    new Option(
      '-c, --context <key=value>',
      'context for the app, as cdk takes it (repeatable): design=<id>, profile=<name> (default: every design, both profiles)',
    ).argParser((raw: string, previous: string[] = []) => [...previous, raw]),
  );
  return cli;
}

/** The command line, checked: one UsageError naming every bad option or context value. */
export function parseCostArgs(cli: Cli, argv: readonly string[]): CostArgs {
  const options = cli.parse<Options & { context?: string[] }>(argv, (o, problem) => {
    const entries = o.context ?? [];
    for (const entry of entries) {
      if (!/^[^=\s]+=.*$/.test(entry)) problem(`-c must be key=value, got ${JSON.stringify(entry)}`);
    }
    const context = contextOf(entries);
    if (context.design !== undefined && !(context.design in DESIGNS)) {
      problem(
        `-c design must be one of ${Object.keys(DESIGNS).join(', ')}, got ${JSON.stringify(context.design)}`,
      );
    }
    if (context.profile !== undefined && !(PROFILE_NAMES as readonly string[]).includes(context.profile)) {
      problem(
        `-c profile must be one of ${PROFILE_NAMES.join(', ')}, got ${JSON.stringify(context.profile)}`,
      );
    }
    if (o.app !== undefined && entries.length > 0) {
      problem('-c cannot go with --app: the assembly was synthesized with its own context');
    }
    if (o.json && o.markdown) problem('--json and --markdown: choose one');
  });
  const context = contextOf(options.context ?? []);
  return {
    designs: context.design ? [context.design] : Object.keys(DESIGNS),
    profiles: context.profile ? [context.profile] : [...PROFILE_NAMES],
    context,
    ...(options.app !== undefined ? { app: options.app } : {}),
    format: options.json ? 'json' : options.markdown ? 'markdown' : 'text',
  };
}

function contextOf(entries: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at > 0) context[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return context;
}

/** One deployment's estimate, from the app built in-process as `cdk synth` would build it. */
export function estimateDeployment(
  design: string,
  profile: string,
  context: Readonly<Record<string, string>> = {},
): DeploymentEstimate {
  const cdkContext = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context as Record<
    string,
    unknown
  >;
  const app = new App({ context: { ...cdkContext, ...context, design, profile } });
  const config = resolveAppConfig({ design, profile }, DESIGNS);
  const stacks = addBlueprintStacks(app, config);
  const hardware = config.capacity.endpointHardware;
  return {
    design,
    profile,
    estimate: estimate(stackTemplates(app, stacks)),
    ...(hardware ? { hardware } : {}),
  };
}

export function estimateAssembly(dir: string): DeploymentEstimate {
  const templates = assemblyTemplates(dir);
  const { design = '(unknown design)', profile = '(unknown profile)' } = taggedDeployment(templates);
  return { design, profile, estimate: estimate(templates) };
}

if (require.main === module) {
  const cli = costCli();
  runMain(cli.name, () => {
    const args = parseCostArgs(cli, process.argv.slice(2));
    // As bin/app.ts does: bundling progress would bury the estimate; warnings and errors still show.
    hideBundlingLines(process.stderr);
    const deployments = args.app
      ? [estimateAssembly(args.app)]
      : args.designs.flatMap((design) =>
          args.profiles.map((profile) => estimateDeployment(design, profile, args.context)),
        );
    const output =
      args.format === 'json'
        ? `${JSON.stringify(toJson(deployments), null, 2)}\n`
        : args.format === 'markdown'
          ? renderMarkdown(deployments)
          : renderText(deployments);
    process.stdout.write(output);
    return deployments.some((d) => d.estimate.unknown.length > 0) ? EXIT_UNKNOWN : EXIT.ok;
  });
}
