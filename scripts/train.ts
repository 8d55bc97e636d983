/**
 * Starts the training pipeline of a deployed design and follows it until it ends.
 *
 *   npm run train -- [--profile sandbox|production] [--design artist-recommender] [--no-wait]
 *
 * Uses the usual AWS credential chain and region. Exit code 0 when the run succeeds (promoted, or
 * rejected by the gate), 1 when it fails, 2 on bad arguments.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { parseArgs } from 'node:util';
import { PROFILE_NAMES } from '../lib/config/profile';
import { DESIGNS } from '../lib/designs';
import { metricsNamespace } from '../lib/stacks/serving-stack';

export interface TrainOptions {
  readonly profile: string;
  readonly design: string;
  readonly wait: boolean;
  readonly pollMs: number;
}

export function parseTrainArgs(argv: string[]): TrainOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string', default: 'sandbox' },
      design: { type: 'string', default: Object.keys(DESIGNS)[0] },
      'no-wait': { type: 'boolean', default: false },
      'poll-seconds': { type: 'string', default: '15' },
    },
  });
  const problems: string[] = [];
  if (!PROFILE_NAMES.includes(values.profile as never))
    problems.push(`--profile must be one of ${PROFILE_NAMES.join(', ')}`);
  if (!Object.hasOwn(DESIGNS, values.design!))
    problems.push(`--design must be one of ${Object.keys(DESIGNS).join(', ')}`);
  const poll = Number(values['poll-seconds']);
  if (!Number.isFinite(poll) || poll <= 0) problems.push('--poll-seconds must be a positive number');
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return { profile: values.profile!, design: values.design!, wait: !values['no-wait'], pollMs: poll * 1000 };
}

export class UsageError extends Error {}

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
  (async () => {
    let options: TrainOptions;
    try {
      options = parseTrainArgs(process.argv.slice(2));
    } catch (error) {
      console.error(`train: ${(error as Error).message}`);
      process.exit(2);
    }
    const status = await train(options, { cfn: new CloudFormationClient({}), sfn: new SFNClient({}) });
    console.log(`status: ${status}`);
    process.exit(status === 'SUCCEEDED' || status === 'STARTED' ? 0 : 1);
  })().catch((error: Error) => {
    console.error(`train: ${error.message}`);
    process.exit(1);
  });
}
