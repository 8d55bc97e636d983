/**
 * Starts the training pipeline of a deployed design and follows it until it ends.
 *
 *   npm run train -- [--profile sandbox|production] [--design artist-recommender] [--region R]
 *                    [--no-wait] [--poll-seconds 15]
 *
 * Uses the usual AWS credential chain and region (--region overrides it); a missing region is named
 * before any call. Exit code 0 when the run succeeds (promoted, or rejected by the gate), 1 when it
 * fails, 2 on bad usage.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { PROFILE_NAMES } from '../../lib/platform/config/profile';
import { DESIGNS } from '../../lib/designs';
import { artistRecommender } from '../../lib/designs/artist-recommender/design';
import { metricsNamespace } from '../../lib/platform/stacks/serving-stack';
import { awsHint, requireRegion } from '../support/aws';
import { Cli, EXIT, UsageError, decimal, oneOf, runMain } from '../support/cli';

export interface TrainOptions {
  readonly profile: string;
  readonly design: string;
  readonly wait: boolean;
  readonly pollMs: number;
  /** The region to call; undefined: the SDK's own (AWS_REGION, then the shared config file). */
  readonly region?: string;
}

export { UsageError };

/** The command line of `npm run train`. */
export function trainCli(): Cli {
  return new Cli({
    name: 'train',
    usage: 'npm run train --',
    description:
      'Starts the training pipeline of a deployed design and prints every state it enters, until the run ends.',
    notes: [
      'Example:',
      '  AWS_REGION=us-east-1 npm run train -- --profile sandbox',
      '',
      'Needs AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and the region',
      'the design is deployed in. A run that ends promoted, or rejected by the gate, is a success.',
    ].join('\n'),
  })
    .option('--profile <name>', 'profile the design was deployed with', oneOf(PROFILE_NAMES), 'sandbox')
    .option(
      '--design <name>',
      'design whose pipeline to start',
      oneOf(Object.keys(DESIGNS)),
      artistRecommender.id,
    )
    .regionOption()
    .flag('--no-wait', 'start the run, print its ARN and return without following it')
    .option(
      '--poll-seconds <seconds>',
      'seconds between checks of the run',
      decimal(0, 3600, { exclusiveMin: true }),
      15,
    );
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseTrainArgs(argv: readonly string[]): TrainOptions {
  const values = trainCli().parse<{
    profile: string;
    design: string;
    region?: string;
    wait: boolean;
    pollSeconds: number;
  }>(argv);
  return {
    profile: values.profile,
    design: values.design,
    wait: values.wait,
    pollMs: values.pollSeconds * 1000,
    ...(values.region ? { region: values.region } : {}),
  };
}

/** The pipeline stack's name, as lib/blueprint.ts names it. */
export function pipelineStackName(design: string, profile: string): string {
  return `${metricsNamespace(design)}-${profile}-pipeline`;
}

export async function findStateMachine(cfn: CloudFormationClient, stackName: string): Promise<string> {
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const arn = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'StateMachineArn')?.OutputValue;
  if (!arn) throw new Error(`stack ${stackName} has no StateMachineArn output: is it deployed?`);
  return arn;
}

/** One line per state the execution enters, fails in, or ends with. */
export function describeEvent(event: HistoryEvent): string | undefined {
  const at = event.timestamp?.toISOString().slice(11, 19) ?? '';
  if (event.stateEnteredEventDetails) return `${at}  -> ${event.stateEnteredEventDetails.name}`;
  if (event.taskFailedEventDetails)
    return `${at}  !  ${event.taskFailedEventDetails.error}: ${event.taskFailedEventDetails.cause ?? ''}`;
  if (event.executionFailedEventDetails) {
    return `${at}  x  ${event.executionFailedEventDetails.error}: ${event.executionFailedEventDetails.cause ?? ''}`;
  }
  if (event.type === 'ExecutionSucceeded') return `${at}  ok execution succeeded`;
  return undefined;
}

export async function train(
  options: TrainOptions,
  clients: { cfn: CloudFormationClient; sfn: SFNClient },
  print: (line: string) => void = console.log,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<'SUCCEEDED' | 'STARTED' | string> {
  const stateMachineArn = await findStateMachine(
    clients.cfn,
    pipelineStackName(options.design, options.profile),
  );
  const { executionArn } = await clients.sfn.send(new StartExecutionCommand({ stateMachineArn }));
  print(`started ${executionArn}`);
  if (!options.wait) return 'STARTED';

  let printedUpTo = 0;
  for (;;) {
    // Read the whole history and print the events not printed yet, then check for the end.
    let nextToken: string | undefined;
    do {
      const page = await clients.sfn.send(
        new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 500 }),
      );
      for (const event of page.events ?? []) {
        if ((event.id ?? 0) <= printedUpTo) continue;
        printedUpTo = event.id ?? printedUpTo;
        const line = describeEvent(event);
        if (line) print(line);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    const { status } = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (status && status !== 'RUNNING' && status !== 'PENDING_REDRIVE') return status;
    await sleep(options.pollMs);
  }
}

if (require.main === module) {
  runMain(
    'train',
    async () => {
      const options = parseTrainArgs(process.argv.slice(2));
      const config = options.region ? { region: options.region } : {};
      const clients = { cfn: new CloudFormationClient(config), sfn: new SFNClient(config) };
      console.log(`region: ${await requireRegion(clients.cfn)}`);
      const status = await train(options, clients);
      console.log(`status: ${status}`);
      return status === 'SUCCEEDED' || status === 'STARTED' ? EXIT.ok : EXIT.failed;
    },
    awsHint,
  );
}
