/**
 * The Map Run of a lowered Distributed Map state (see `lowering.ts`), as Step Functions runs it:
 *
 * 1. Items: an S3 `listObjectsV2` ItemReader is called page by page (ListObjectsV2, validated
 *    against the S3 model) and each object becomes `{ Etag, Key, LastModified, Size,
 *    StorageClass }`, LastModified in epoch seconds; a reader that fails fails the state with
 *    `States.ItemReaderFailed`. Without a reader, `ItemsPath` (default `$`) selects the items.
 *    https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
 * 2. Each item runs as a child execution of the `ItemProcessor`, its input built by the
 *    `ItemSelector` with `$$.Map.Item.Index/Value`, at most `MaxConcurrency` at once.
 * 3. More failed items than `ToleratedFailurePercentage`/`ToleratedFailureCount` allow (both
 *    default to 0) fail the state with `States.ExceedToleratedFailureThreshold`.
 *    https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html#maprun-fail-threshold
 * 4. With a `ResultWriter`, the results are written as `SUCCEEDED_0.json` / `FAILED_0.json` and a
 *    `manifest.json` under `<Prefix>/<map run id>/` (each an S3 PutObject, validated and recorded),
 *    and the state's output is `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`; without
 *    one, the array of child outputs. A trailing slash of the prefix is not doubled.
 *    https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 *
 * All items run even when the threshold is exceeded early: the tests use few items, and which
 * items a real Map Run had started by then is not deterministic anyway.
 */
import { createHash } from 'node:crypto';
import { FAKE_ACCOUNT, FAKE_REGION } from './cfn';
import { integrationOf, StepFunctionsError, type Integration } from './integrations';
import type { AslDefinition, AslState } from './types';

export interface ChildExecution {
  readonly index: number;
  readonly input: unknown;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

export interface ResultWrite {
  readonly Bucket: string;
  readonly Key: string;
  readonly Body: unknown;
}

export interface MapRun {
  readonly state: string;
  readonly mapRunArn: string;
  readonly items: unknown[];
  readonly children: ChildExecution[];
  /** The objects the ResultWriter wrote, bodies parsed. */
  readonly writes: ResultWrite[];
  readonly output?: unknown;
  readonly failure?: StepFunctionsError;
}

export interface MapEnvironment {
  readonly stateMachineName: string;
  call(slot: 'ItemReader' | 'ResultWriter', integration: Integration, request: unknown): Promise<unknown>;
  evaluate(template: unknown, input: unknown, context: Record<string, unknown>): Promise<unknown>;
  runChild(
    processor: AslDefinition,
    input: unknown,
    context: Record<string, unknown>,
    index: number,
  ): Promise<Omit<ChildExecution, 'index' | 'input'>>;
}

interface S3Object {
  Key: string;
  ETag?: string;
  LastModified?: string | number | Date;
  Size?: number;
  StorageClass?: string;
}

/** Step Functions runs up to 10,000 child executions at once when MaxConcurrency is 0 or absent. */
const DISTRIBUTED_MAX_CONCURRENCY = 10_000;

export async function runDistributedMap(
  name: string,
  state: AslState,
  parameters: { input: unknown; context: Record<string, unknown>; reader?: Record<string, unknown> },
  env: MapEnvironment,
): Promise<MapRun> {
  const { input, context } = parameters;
  const runId = uuid(`${JSON.stringify(context.Execution ?? {})}/${name}`);
  const mapRunArn = `arn:aws:states:${FAKE_REGION}:${FAKE_ACCOUNT}:mapRun:${env.stateMachineName}/${String(state.Label ?? name)}:${runId}`;
  const items = await readItems(state, parameters, env);
  // A child execution runs the processor's states; ProcessorConfig is the Map's, not theirs.
  const processor: AslDefinition & { ProcessorConfig?: unknown } = {
    ...(state.ItemProcessor as AslDefinition),
  };
  delete processor.ProcessorConfig;
  const children = await mapWithConcurrency(items, concurrency(state), async (item, index) => {
    const itemContext = { ...context, Map: { Item: { Index: index, Value: item } } };
    const childInput = state.ItemSelector ? await env.evaluate(state.ItemSelector, input, itemContext) : item;
    const childContext = {
      ...context,
      Execution: {
        ...(context.Execution as Record<string, unknown>),
        Id: `arn:aws:states:${FAKE_REGION}:${FAKE_ACCOUNT}:execution:${env.stateMachineName}/${String(state.Label ?? name)}:${uuid(`${runId}/${index}`)}`,
        Input: childInput,
      },
    };
    const outcome = await env.runChild(processor, childInput, childContext, index);
    return { index, input: childInput, ...outcome };
  });
  const failed = children.filter((child) => child.status !== 'SUCCEEDED');
  const failure = exceedsThreshold(state, failed.length, children.length)
    ? new StepFunctionsError(
        'States.ExceedToleratedFailureThreshold',
        `The Map Run ${mapRunArn} failed ${failed.length} of ${children.length} items; the first: ${failed[0].error}: ${failed[0].cause}`,
      )
    : undefined;
  const writes = state.ResultWriter
    ? await writeResults(state, children, mapRunArn, runId, input, context, env)
    : [];
  const output = failure
    ? undefined
    : state.ResultWriter
      ? {
          MapRunArn: mapRunArn,
          ResultWriterDetails: {
            Bucket: writes[writes.length - 1].Bucket,
            Key: writes[writes.length - 1].Key,
          },
        }
      : children.map((child) => child.output ?? null);
  return { state: name, mapRunArn, items, children, writes, output, failure };
}

async function readItems(
  state: AslState,
  parameters: { input: unknown; context: Record<string, unknown>; reader?: Record<string, unknown> },
  env: MapEnvironment,
): Promise<unknown[]> {
  const reader = state.ItemReader as { Resource: string } | undefined;
  if (!reader) {
    const items = await env.evaluate(
      { 'items.$': String(state.ItemsPath ?? '$') },
      parameters.input,
      parameters.context,
    );
    const list = (items as { items: unknown }).items;
    if (!Array.isArray(list))
      throw new StepFunctionsError('States.Runtime', `ItemsPath does not select an array`);
    return list;
  }
  const integration = integrationOf(reader.Resource);
  if (integration.service !== 's3' || integration.operation !== 'ListObjectsV2') {
    throw new Error(`the harness reads items with s3:listObjectsV2 only, not ${reader.Resource}`);
  }
  const items: unknown[] = [];
  let continuationToken: string | undefined;
  do {
    let page: { Contents?: S3Object[]; IsTruncated?: boolean; NextContinuationToken?: string };
    try {
      page = (await env.call('ItemReader', integration, {
        ...(parameters.reader ?? {}),
        ...(continuationToken ? { ContinuationToken: continuationToken } : {}),
      })) as typeof page;
    } catch (error) {
      if (!(error instanceof StepFunctionsError)) throw error;
      throw new StepFunctionsError('States.ItemReaderFailed', `${error.error}: ${error.message}`);
    }
    for (const object of page.Contents ?? []) {
      items.push({
        Etag: object.ETag,
        Key: object.Key,
        LastModified: Math.floor(new Date(object.LastModified ?? 0).getTime() / 1000),
        Size: object.Size,
        StorageClass: object.StorageClass ?? 'STANDARD',
      });
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated && !continuationToken) {
      throw new Error('a truncated ListObjectsV2 page needs a NextContinuationToken');
    }
  } while (continuationToken);
  return items;
}

function concurrency(state: AslState): number {
  const max = Number(state.MaxConcurrency ?? 0);
  return max > 0 ? max : DISTRIBUTED_MAX_CONCURRENCY;
}

function exceedsThreshold(state: AslState, failed: number, total: number): boolean {
  if (failed === 0) return false;
  const percentage = state.ToleratedFailurePercentage as number | undefined;
  const count = state.ToleratedFailureCount as number | undefined;
  const overPercentage = (percentage ?? 0) < (failed * 100) / total;
  const overCount = (count ?? 0) < failed;
  if (percentage === undefined && count === undefined) return true;
  if (percentage !== undefined && count !== undefined) return overPercentage || overCount;
  return percentage !== undefined ? overPercentage : overCount;
}

async function writeResults(
  state: AslState,
  children: ChildExecution[],
  mapRunArn: string,
  runId: string,
  input: unknown,
  context: Record<string, unknown>,
  env: MapEnvironment,
): Promise<ResultWrite[]> {
  const writer = state.ResultWriter as { Resource: string; Parameters?: unknown };
  const integration = integrationOf(writer.Resource);
  if (integration.service !== 's3' || integration.operation !== 'PutObject') {
    throw new Error(`the harness writes results with s3:putObject only, not ${writer.Resource}`);
  }
  const { Bucket, Prefix } = (await env.evaluate(writer.Parameters ?? {}, input, context)) as {
    Bucket: string;
    Prefix?: string;
  };
  const base = `${Prefix ? `${Prefix.replace(/\/+$/, '')}/` : ''}${runId}/`;
  const record = (child: ChildExecution) => ({
    ExecutionArn: `${mapRunArn.replace(':mapRun:', ':execution:')}-${child.index}`,
    Input: JSON.stringify(child.input),
    InputDetails: { Included: true },
    Name: `${runId}-${child.index}`,
    ...(child.status === 'SUCCEEDED'
      ? { Output: JSON.stringify(child.output ?? null), OutputDetails: { Included: true } }
      : { Error: child.error, Cause: child.cause }),
    Status: child.status,
  });
  const files: { status: 'SUCCEEDED' | 'FAILED'; records: unknown[] }[] = [
    { status: 'SUCCEEDED', records: children.filter((c) => c.status === 'SUCCEEDED').map(record) },
    { status: 'FAILED', records: children.filter((c) => c.status !== 'SUCCEEDED').map(record) },
  ].filter((file) => file.records.length > 0) as { status: 'SUCCEEDED' | 'FAILED'; records: unknown[] }[];
  const writes: ResultWrite[] = [];
  const resultFiles: Record<string, { Key: string; Size: number }[]> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  for (const file of files) {
    const Key = `${base}${file.status}_0.json`;
    const body = JSON.stringify(file.records);
    await put(env, integration, { Bucket, Key, Body: body, ContentType: 'application/json' });
    writes.push({ Bucket, Key, Body: file.records });
    resultFiles[file.status].push({ Key, Size: Buffer.byteLength(body) });
  }
  const manifest = { DestinationBucket: Bucket, MapRunArn: mapRunArn, ResultFiles: resultFiles };
  const manifestKey = `${base}manifest.json`;
  await put(env, integration, {
    Bucket,
    Key: manifestKey,
    Body: JSON.stringify(manifest),
    ContentType: 'application/json',
  });
  writes.push({ Bucket, Key: manifestKey, Body: manifest });
  return writes;
}

async function put(
  env: MapEnvironment,
  integration: Integration,
  request: Record<string, unknown>,
): Promise<void> {
  try {
    await env.call('ResultWriter', integration, request);
  } catch (error) {
    if (!(error instanceof StepFunctionsError)) throw error;
    throw new StepFunctionsError('States.ResultWriterFailed', `${error.error}: ${error.message}`);
  }
}

async function mapWithConcurrency<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function uuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
