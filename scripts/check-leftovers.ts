/**
 * Lists what a design's deployment left in the account and region, and fails when anything is left.
 * `npm run integ` runs it before deploying (the account must start clean, so that what is found
 * afterwards is the run's) and after destroying.
 *
 *   npx ts-node --transpile-only scripts/check-leftovers.ts [--design <design id>]
 *     [--profile sandbox] [--since 2026-01-31T12:00:00Z | --since-hours 24] [--region R]
 *
 * What counts as left, for the stacks named `<Design>-<profile>-*` (lib/blueprint.ts):
 * - a stack that is not DELETE_COMPLETE;
 * - a resource tagged `blueprint:design=<design>` and `blueprint:profile=<profile>` (Resource Groups
 *   Tagging API) that CloudFormation did not delete. The tagging API keeps listing deleted resources
 *   for a while ("all the tagged or previously tagged resources",
 *   https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html), and a
 *   KMS key waits out its deletion window (https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html):
 *   both are matched against the resources CloudFormation reports DELETE_COMPLETE in the design's
 *   stacks deleted since `--since`, and listed apart, not failed;
 * - a resource CloudFormation retained (DELETE_SKIPPED) when it deleted one of those stacks;
 * - a SageMaker model, endpoint config, endpoint or model package group named `<design>-*` (what
 *   training runs create, outside CloudFormation), and a training job `<design>-*` still in progress
 *   (it bills until it ends, whatever became of its pipeline);
 * - a log group of one of those stacks: named after a stack, `/aws/lambda/<function>` of a function
 *   they held (Lambda creates it on first write; no stack deletes it), `/aws/sagemaker/Endpoints/<endpoint>`,
 *   `API-Gateway-Execution-Logs_<api id>/...`, `/aws/rds/cluster/<cluster>/...`, or a group they created;
 * - a training log stream `<design>-*` in `/aws/sagemaker/TrainingJobs`.
 *
 * Every SDK call has a deadline. Exit codes: 0 nothing left, 1 something left, 2 bad usage (or no
 * region), 3 the check could not finish (no credentials, a call failed or ran past its deadline),
 * so that a caller tells "something is left" from "could not look". Uses the usual AWS credential
 * chain and region (--region overrides it).
 */
import {
  CloudFormationClient,
  ListStackResourcesCommand,
  ListStacksCommand,
  type StackSummary,
} from '@aws-sdk/client-cloudformation';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelPackageGroupsCommand,
  ListModelsCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { PROFILE_NAMES } from '../lib/platform/config/profile';
import { DESIGNS } from '../lib/designs';
import { metricsNamespace } from '../lib/platform/stacks/serving-stack';
import { awsHint, requireRegion } from './support/aws';
import { Cli, EXIT, UsageError, decimal, describeFailure, isoTime, oneOf, runMain } from './support/cli';

export interface LeftoverClients {
  readonly cloudFormation: CloudFormationClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly sageMaker: SageMakerClient;
  readonly logs: CloudWatchLogsClient;
}

export interface LeftoverOptions {
  readonly design: string;
  readonly profile: string;
  /** Stacks deleted before this are not consulted. */
  readonly since: Date;
  /** Longest one SDK call may take. @default 20 seconds */
  readonly callTimeoutMs?: number;
}

export interface Leftover {
  readonly kind: string;
  readonly name: string;
  readonly why: string;
}

export interface LeftoverReport {
  readonly leftovers: Leftover[];
  /** Tagged resources CloudFormation deleted (or scheduled for deletion), still listed by the tagging API. */
  readonly stillIndexed: string[];
  /** The stacks whose resources were consulted. */
  readonly stacks: string[];
}

/** The stack name prefix of a design's deployment, as lib/blueprint.ts names the stacks. */
export function stackPrefix(design: string, profile: string): string {
  return `${metricsNamespace(design)}-${profile}-`;
}

/** The group SageMaker training jobs log to, shared by every job in the account and region. */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';
const MAX_PAGES = 1000;
const DELETED = 'DELETE_COMPLETE';

interface StackResource {
  readonly stack: string;
  readonly stackLive: boolean;
  readonly type: string;
  readonly logicalId: string;
  readonly physicalId: string;
  readonly status: string;
}

class Deadline {
  constructor(private readonly ms: number) {}

  /** Sends with an abort signal and fails, naming the call, if no answer comes within the deadline. */
  async send<T>(label: string, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`${label} did not answer within ${this.ms} ms`));
      }, this.ms);
    });
    try {
      return await Promise.race([call(controller.signal), expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function paginate<P, T>(
  label: string,
  fetchPage: (token: string | undefined) => Promise<P>,
  items: (page: P) => T[] | undefined,
  nextToken: (page: P) => string | undefined,
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await fetchPage(token);
    all.push(...(items(answer) ?? []));
    token = nextToken(answer) || undefined;
    if (!token) return all;
  }
  throw new Error(`${label}: more than ${MAX_PAGES} pages`);
}

/** CloudFormation resource type's service as it appears in ARNs (`AWS::KinesisFirehose::X` -> `firehose`). */
const ARN_SERVICE: Readonly<Record<string, string>> = {
  kinesisfirehose: 'firehose',
  stepfunctions: 'states',
  elasticloadbalancingv2: 'elasticloadbalancing',
};

function arnService(type: string): string {
  const service = (type.split('::')[1] ?? '').toLowerCase();
  return ARN_SERVICE[service] ?? service;
}

/**
 * Whether a tagged ARN is this CloudFormation resource: the same service, and the ARN is the
 * physical id or ends with it after `:` or `/` (physical ids are names, ids or ARNs depending on the
 * type). SageMaker lower-cases names in ARNs, so the comparison ignores case.
 */
export function arnMatches(arn: string, resource: Pick<StackResource, 'type' | 'physicalId'>): boolean {
  if (!resource.physicalId) return false;
  const a = arn.toLowerCase();
  const id = resource.physicalId.toLowerCase();
  if (a.split(':')[2] !== arnService(resource.type)) return false;
  return a === id || a.endsWith(`:${id}`) || a.endsWith(`/${id}`);
}

/** Log group names (exact, or a prefix ending in `/`) that a stack resource makes Lambda, SageMaker, API Gateway or RDS write to. */
export function logGroupsOf(resource: StackResource): string[] {
  const id = resource.physicalId;
  if (!id) return [];
  switch (resource.type) {
    case 'AWS::Lambda::Function':
      return [`/aws/lambda/${id}`];
    case 'AWS::SageMaker::Endpoint':
      return [`/aws/sagemaker/Endpoints/${id.split('/').pop()}`];
    case 'AWS::ApiGateway::RestApi':
      return [`API-Gateway-Execution-Logs_${id}/`];
    case 'AWS::RDS::DBCluster':
      return [`/aws/rds/cluster/${id}/`];
    case 'AWS::Logs::LogGroup':
      return [id];
    default:
      return [];
  }
}

export async function findLeftovers(
  clients: LeftoverClients,
  options: LeftoverOptions,
): Promise<LeftoverReport> {
  const deadline = new Deadline(options.callTimeoutMs ?? 20_000);
  const prefix = stackPrefix(options.design, options.profile);
  const leftovers: Leftover[] = [];
  const stillIndexed: string[] = [];

  // 1. The design's stacks: live ones are left; deleted ones since `since` say what they held.
  const summaries: StackSummary[] = await paginate(
    'ListStacks',
    (NextToken) =>
      deadline.send('ListStacks', (abortSignal) =>
        clients.cloudFormation.send(new ListStacksCommand({ NextToken }), { abortSignal }),
      ),
    (page) => page.StackSummaries,
    (page) => page.NextToken,
  );
  const consulted = summaries.filter(
    (s) =>
      s.StackName?.startsWith(prefix) &&
      (s.StackStatus !== DELETED || (s.DeletionTime !== undefined && s.DeletionTime >= options.since)),
  );
  for (const stack of consulted) {
    if (stack.StackStatus !== DELETED)
      leftovers.push({ kind: 'stack', name: stack.StackName!, why: `status ${stack.StackStatus}` });
  }
  const resources: StackResource[] = [];
  for (const stack of consulted) {
    const label = `ListStackResources ${stack.StackName}`;
    const summariesOfStack = await paginate(
      label,
      (NextToken) =>
        deadline.send(label, (abortSignal) =>
          // A deleted stack is found by its id only.
          clients.cloudFormation.send(
            new ListStackResourcesCommand({ StackName: stack.StackId!, NextToken }),
            {
              abortSignal,
            },
          ),
        ),
      (page) => page.StackResourceSummaries,
      (page) => page.NextToken,
    );
    for (const r of summariesOfStack) {
      resources.push({
        stack: stack.StackName!,
        stackLive: stack.StackStatus !== DELETED,
        type: r.ResourceType ?? '',
        logicalId: r.LogicalResourceId ?? '',
        physicalId: r.PhysicalResourceId ?? '',
        status: r.ResourceStatus ?? '',
      });
    }
  }
  const ofLiveStack = (matches: (r: StackResource) => boolean) =>
    resources.some((r) => r.stackLive && matches(r));
  for (const r of resources) {
    if (!r.stackLive && r.status === 'DELETE_SKIPPED') {
      leftovers.push({
        kind: r.type,
        name: r.physicalId || r.logicalId,
        why: `retained when ${r.stack} was deleted (${r.logicalId})`,
      });
    }
  }

  // 2. Tagged resources that CloudFormation did not delete.
  const tagged = await paginate(
    'GetResources',
    (PaginationToken) =>
      deadline.send('GetResources', (abortSignal) =>
        clients.tagging.send(
          new GetResourcesCommand({
            PaginationToken,
            TagFilters: [
              { Key: 'blueprint:design', Values: [options.design] },
              { Key: 'blueprint:profile', Values: [options.profile] },
            ],
          }),
          { abortSignal },
        ),
      ),
    (page) => page.ResourceTagMappingList,
    (page) => page.PaginationToken,
  );
  for (const { ResourceARN: arn } of tagged) {
    if (!arn) continue;
    const known = resources.filter((r) => arnMatches(arn, r));
    if (known.some((r) => r.stackLive)) continue; // reported with its stack
    if (known.some((r) => r.status === DELETED)) stillIndexed.push(arn);
    else if (!known.some((r) => r.status === 'DELETE_SKIPPED'))
      leftovers.push({
        kind: 'tagged resource',
        name: arn,
        why: `tagged blueprint:design=${options.design}`,
      });
  }

  // 3. What training runs create outside CloudFormation, named after the design.
  const runPrefix = `${options.design}-`.toLowerCase();
  const sageMakerLists: [string, (token?: string) => Promise<{ names: string[]; next?: string }>][] = [
    [
      'model',
      async (NextToken) => {
        const page = await deadline.send('ListModels', (abortSignal) =>
          clients.sageMaker.send(new ListModelsCommand({ NameContains: options.design, NextToken }), {
            abortSignal,
          }),
        );
        return { names: (page.Models ?? []).map((m) => m.ModelName ?? ''), next: page.NextToken };
      },
    ],
    [
      'endpoint config',
      async (NextToken) => {
        const page = await deadline.send('ListEndpointConfigs', (abortSignal) =>
          clients.sageMaker.send(
            new ListEndpointConfigsCommand({ NameContains: options.design, NextToken }),
            {
              abortSignal,
            },
          ),
        );
        return {
          names: (page.EndpointConfigs ?? []).map((c) => c.EndpointConfigName ?? ''),
          next: page.NextToken,
        };
      },
    ],
    [
      'endpoint',
      async (NextToken) => {
        const page = await deadline.send('ListEndpoints', (abortSignal) =>
          clients.sageMaker.send(new ListEndpointsCommand({ NameContains: options.design, NextToken }), {
            abortSignal,
          }),
        );
        return { names: (page.Endpoints ?? []).map((e) => e.EndpointName ?? ''), next: page.NextToken };
      },
    ],
    [
      'model package group',
      async (NextToken) => {
        const page = await deadline.send('ListModelPackageGroups', (abortSignal) =>
          clients.sageMaker.send(
            new ListModelPackageGroupsCommand({ NameContains: options.design, NextToken }),
            {
              abortSignal,
            },
          ),
        );
        return {
          names: (page.ModelPackageGroupSummaryList ?? []).map((g) => g.ModelPackageGroupName ?? ''),
          next: page.NextToken,
        };
      },
    ],
    [
      'training job in progress',
      async (NextToken) => {
        const page = await deadline.send('ListTrainingJobs', (abortSignal) =>
          clients.sageMaker.send(
            new ListTrainingJobsCommand({
              NameContains: options.design,
              StatusEquals: 'InProgress',
              NextToken,
            }),
            { abortSignal },
          ),
        );
        return {
          names: (page.TrainingJobSummaries ?? []).map((j) => j.TrainingJobName ?? ''),
          next: page.NextToken,
        };
      },
    ],
  ];
  for (const [kind, list] of sageMakerLists) {
    const names = await paginate(
      kind,
      (token) => list(token),
      (page) => page.names,
      (page) => page.next,
    );
    for (const name of names) {
      if (!name.toLowerCase().startsWith(runPrefix)) continue;
      if (
        ofLiveStack(
          (r) =>
            r.type.startsWith('AWS::SageMaker::') && r.physicalId.toLowerCase().endsWith(name.toLowerCase()),
        )
      )
        continue;
      leftovers.push({ kind: `SageMaker ${kind}`, name, why: `named ${runPrefix}*` });
    }
  }

  // 4. Log groups of the stacks' resources, and any named after a stack.
  // Groups of a live stack's resources are reported with their stack.
  const liveGroups = new Set(resources.filter((r) => r.stackLive).flatMap(logGroupsOf));
  const wanted = new Map<string, StackResource>();
  for (const r of resources)
    for (const name of logGroupsOf(r)) if (!liveGroups.has(name)) wanted.set(name, r);
  const found = new Map<string, string>();
  for (const [name, owner] of wanted) {
    const label = `DescribeLogGroups ${name}`;
    const groups = await paginate(
      label,
      (nextToken) =>
        deadline.send(label, (abortSignal) =>
          clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, nextToken }), {
            abortSignal,
          }),
        ),
      (page) => page.logGroups,
      (page) => page.nextToken,
    );
    for (const group of groups) {
      const groupName = group.logGroupName ?? '';
      if (groupName === name || (name.endsWith('/') && groupName.startsWith(name)))
        found.set(groupName, `of ${owner.type} ${owner.logicalId} in ${owner.stack}`);
    }
  }
  const pattern = prefix.replace(/-$/, '');
  const named = await paginate(
    `DescribeLogGroups *${pattern}*`,
    (nextToken) =>
      deadline.send(`DescribeLogGroups *${pattern}*`, (abortSignal) =>
        clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: pattern, nextToken }), {
          abortSignal,
        }),
      ),
    (page) => page.logGroups,
    (page) => page.nextToken,
  );
  for (const group of named) {
    const groupName = group.logGroupName ?? '';
    if (!found.has(groupName) && !liveGroups.has(groupName))
      found.set(groupName, `named after a ${pattern} stack`);
  }
  for (const [name, why] of [...found].sort()) leftovers.push({ kind: 'log group', name, why });

  // 5. Training log streams, which live in a group no stack owns.
  let streams: string[] = [];
  try {
    streams = (
      await paginate(
        'DescribeLogStreams',
        (nextToken) =>
          deadline.send('DescribeLogStreams', (abortSignal) =>
            clients.logs.send(
              new DescribeLogStreamsCommand({
                logGroupName: TRAINING_LOG_GROUP,
                logStreamNamePrefix: runPrefix,
                nextToken,
              }),
              { abortSignal },
            ),
          ),
        (page) => page.logStreams,
        (page) => page.nextToken,
      )
    ).map((s) => s.logStreamName ?? '');
  } catch (error) {
    // No training job ever ran in this account and region: the group does not exist.
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  for (const name of streams) {
    leftovers.push({
      kind: 'log stream',
      name: `${TRAINING_LOG_GROUP}/${name}`,
      why: `training job ${runPrefix}*`,
    });
  }

  return { leftovers, stillIndexed, stacks: consulted.map((s) => `${s.StackName} (${s.StackStatus})`) };
}

export { UsageError };

/** Exit code of a check that could not finish: no credentials, a call failed or ran past its deadline. */
export const EXIT_UNFINISHED = 3;

/** The command line of `scripts/check-leftovers.ts`. */
export function leftoversCli(): Cli {
  return new Cli({
    name: 'check-leftovers',
    usage: 'npx ts-node --transpile-only scripts/check-leftovers.ts',
    description:
      "Lists what a design's deployment left in the account and region (stacks, retained or tagged " +
      'resources, SageMaker models, endpoints and package groups, log groups, training log streams).',
    notes: [
      'Example, after npx cdk destroy --all:',
      '  AWS_REGION=us-east-1 npx ts-node --transpile-only scripts/check-leftovers.ts --since-hours 2',
      '',
      'npm run integ runs it before deploying and after destroying. Needs AWS credentials',
      '(AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) that may list those resources.',
    ].join('\n'),
    exitCodes: {
      0: 'nothing is left',
      1: 'something is left (listed)',
      [EXIT_UNFINISHED]:
        'the check could not finish (no credentials, a call failed or ran past its deadline)',
    },
  })
    .option('--design <name>', 'design to look for', oneOf(Object.keys(DESIGNS)), Object.keys(DESIGNS)[0])
    .option('--profile <name>', 'profile it was deployed with', oneOf(PROFILE_NAMES), 'sandbox')
    .option(
      '--since <time>',
      'consult the stacks deleted since this time',
      isoTime(),
      undefined,
      '--since-hours before now',
    )
    .option(
      '--since-hours <hours>',
      'consult the stacks deleted in the last this many hours (ignored with --since)',
      decimal(0, 90 * 24, { exclusiveMin: true }),
      24,
    )
    .regionOption('AWS region to check');
}

export interface LeftoverArgs extends LeftoverOptions {
  /** The region to check; undefined: the SDK's own (AWS_REGION, then the shared config file). */
  readonly region?: string;
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseLeftoverArgs(argv: readonly string[], now = Date.now()): LeftoverArgs {
  const values = leftoversCli().parse<{
    design: string;
    profile: string;
    since?: Date;
    sinceHours: number;
    region?: string;
  }>(argv);
  return {
    design: values.design,
    profile: values.profile,
    since: values.since ?? new Date(now - values.sinceHours * 3_600_000),
    ...(values.region ? { region: values.region } : {}),
  };
}

export function formatReport(report: LeftoverReport, options: LeftoverOptions, region: string): string {
  const lines = [
    `${options.design} (${options.profile}) in ${region}: ${report.stacks.length} stack(s) consulted` +
      (report.stacks.length > 0 ? `: ${report.stacks.join(', ')}` : ''),
  ];
  for (const arn of report.stillIndexed)
    lines.push(`  deleted by CloudFormation, still listed by the tagging API: ${arn}`);
  if (report.leftovers.length === 0) lines.push('nothing left');
  else {
    lines.push(`${report.leftovers.length} thing(s) left:`);
    for (const l of report.leftovers) lines.push(`  ${l.kind}: ${l.name} (${l.why})`);
  }
  return lines.join('\n');
}

export function defaultClients(region?: string): LeftoverClients {
  // Short socket timeouts; the Deadline bounds each call as a whole, retries included.
  const config = {
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5000, requestTimeout: 15_000 },
    ...(region ? { region } : {}),
  };
  return {
    cloudFormation: new CloudFormationClient(config),
    tagging: new ResourceGroupsTaggingAPIClient(config),
    sageMaker: new SageMakerClient(config),
    logs: new CloudWatchLogsClient(config),
  };
}

/**
 * Runs the check and prints the report; resolves to the exit code (0 nothing left, 1 something
 * left, 2 bad usage or no region, 3 the check could not finish). Prints errors as one line each.
 */
export async function checkLeftovers(argv: readonly string[], clients?: LeftoverClients): Promise<number> {
  let options: LeftoverArgs;
  let regionName: string;
  try {
    options = parseLeftoverArgs(argv);
    clients ??= defaultClients(options.region);
    // Named before the first call, rather than as the SDK's "Region is missing".
    regionName = await requireRegion(clients.cloudFormation);
  } catch (error) {
    const { code, text } = describeFailure('check-leftovers', error);
    if (text) console.error(text);
    return code;
  }
  try {
    const report = await findLeftovers(clients, options);
    console.log(formatReport(report, options, regionName));
    return report.leftovers.length === 0 ? EXIT.ok : EXIT.failed;
  } catch (error) {
    const hint = error instanceof Error ? awsHint(error) : undefined;
    console.error(
      `check-leftovers: could not finish the check: ${(error as Error).message}${hint ? `: ${hint}` : ''}`,
    );
    return EXIT_UNFINISHED;
  }
}

if (require.main === module) {
  runMain('check-leftovers', () => checkLeftovers(process.argv.slice(2)));
}
