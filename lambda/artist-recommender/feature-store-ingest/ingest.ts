import type { FeatureValue } from '@aws-sdk/client-sagemaker-featurestore-runtime';
import type { Line } from '../event-transform/lines';
import { UserFeatures } from '../../../lib/designs/artist-recommender/contracts/features';

export interface BadLineSample {
  line: number;
  reason: string;
}

export interface IngestResult {
  /** Records the Feature Store accepted. */
  records: number;
  /** Valid records it still refused after the client's retries. */
  failed: number;
  /** Lines that are not a valid record (never sent). */
  badLines: number;
  badLineSamples: BadLineSample[];
}

export interface IngestOptions {
  /** PutRecord calls in flight at once. */
  concurrency: number;
  /** Bad lines (and failed records) kept with their numbers. */
  maxSamples: number;
}

export const DEFAULT_INGEST_OPTIONS: IngestOptions = {
  concurrency: 16,
  maxSamples: 20,
};

export type ParsedRecord = { ok: true; record: FeatureValue[] } | { ok: false; reason: string };

/**
 * Turns one line into a Feature Store record: every field of the object, as strings (numbers
 * written in decimal). The features of the contract (`UserFeatures`) must be present with their
 * type; other string or number fields are sent as they are, so the feature group definition
 * decides whether it knows them.
 */
export function parseRecord(text: string): ParsedRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'not a JSON object' };
  const fields = value as Record<string, unknown>;
  const checked = UserFeatures.safeParse(fields);
  if (!checked.success) {
    const [issue] = checked.error.issues;
    const name = String(issue.path[0]);
    const missing = fields[name] === undefined || fields[name] === null;
    return { ok: false, reason: missing ? `${name} is missing` : `${name} ${issue.message}` };
  }
  const record: FeatureValue[] = [];
  for (const [name, field] of Object.entries(fields)) {
    if (typeof field === 'string') record.push({ FeatureName: name, ValueAsString: field });
    else if (typeof field === 'number' && Number.isFinite(field))
      record.push({ FeatureName: name, ValueAsString: String(field) });
    else return { ok: false, reason: `${name} must be a string or a number` };
  }
  return { ok: true, record };
}

function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`.slice(0, 300);
}

export class IngestFailedError extends Error {
  override readonly name = 'IngestFailedError';
  constructor(
    readonly result: IngestResult,
    readonly failedSamples: BadLineSample[],
  ) {
    super(
      `${result.failed} record(s) were refused after retries (${result.records} written, ` +
        `${result.badLines} bad lines); first: ` +
        failedSamples
          .slice(0, 5)
          .map((f) => `line ${f.line}: ${f.reason}`)
          .join('; '),
    );
  }
}

/**
 * Puts every valid line, at most `concurrency` at a time, as the lines stream in: the reader waits
 * for a free slot, so memory holds one input chunk and the records in flight whatever the file size.
 * Bad lines are counted with their numbers. `put` is one PutRecord, retried by the SDK client's own
 * settings only; a record still refused after them is counted with its line, and the other records
 * go on. Throws IngestFailedError (after every line was tried) when any valid record was refused,
 * so the caller's retry policy (the pipeline's) sees the failure.
 */
export async function ingestLines(
  batches: AsyncIterable<Line[]>,
  put: (record: FeatureValue[]) => Promise<unknown>,
  options: IngestOptions = DEFAULT_INGEST_OPTIONS,
): Promise<IngestResult> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new Error('concurrency must be a positive integer');
  const result: IngestResult = { records: 0, failed: 0, badLines: 0, badLineSamples: [] };
  const failedSamples: BadLineSample[] = [];
  const inFlight = new Set<Promise<void>>();

  const bad = (line: number, reason: string) => {
    result.badLines++;
    if (result.badLineSamples.length < options.maxSamples) result.badLineSamples.push({ line, reason });
  };

  for await (const lines of batches) {
    for (const line of lines) {
      if (line.text === undefined) {
        bad(line.line, `the line holds ${line.bytes} bytes, more than the limit`);
        continue;
      }
      if (line.invalidUtf8) {
        // Never repaired: a replaced byte could turn one user's id into another's.
        bad(line.line, 'the line is not valid UTF-8');
        continue;
      }
      const parsed = parseRecord(line.text);
      if (!parsed.ok) {
        bad(line.line, parsed.reason);
        continue;
      }
      while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      const task: Promise<void> = Promise.resolve()
        .then(() => put(parsed.record))
        .then(
          () => {
            result.records++;
          },
          (error: unknown) => {
            result.failed++;
            if (failedSamples.length < options.maxSamples)
              failedSamples.push({ line: line.line, reason: describe(error) });
          },
        )
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
  }
  await Promise.all(inFlight);
  if (result.failed > 0) throw new IngestFailedError(result, failedSamples);
  return result;
}
