import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EVENT_FIELDS, type CleanEvent } from '../events/schema';

/** The columns of `events` the ETL fills: the contract's fields, one column each. */
export const EVENT_COLUMNS = EVENT_FIELDS;

const COPY_CHUNK_CHARS = 256 * 1024;
const STAGING_BUFFERS = '64MB';
const UNIQUE_VIOLATION = '23505';

/** Escapes a value for COPY's text format (ids are already free of these characters; this is defence). */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** One line of COPY text input in EVENT_COLUMNS order, terminator included. */
export function toCopyRow(event: CleanEvent): string {
  const values = EVENT_COLUMNS.map((column) => {
    const value = event[column];
    return copyText(typeof value === 'string' ? value : arrayLiteral(value));
  });
  return values.join('\t') + '\n';
}

async function* copyChunks(
  batches: AsyncIterable<CleanEvent[]>,
  counter: { staged: number },
): AsyncGenerator<string> {
  let chunk = '';
  for await (const events of batches) {
    for (const event of events) chunk += toCopyRow(event);
    counter.staged += events.length;
    if (chunk.length >= COPY_CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

export interface LoadResult {
  /** Rows copied into the staging table. */
  staged: number;
  /** Rows newly inserted into `events`; staged - loaded were already there. */
  loaded: number;
}

/**
 * Streams events into a transaction-local staging table with COPY, then moves the ones not yet
 * stored into `events`, so a retried or overlapping load never duplicates a row. All or
 * nothing: a failure (including one raised by the source) rolls the whole object back.
 */
export async function loadEvents(
  client: ClientBase,
  events: AsyncIterable<CleanEvent[]>,
  sourceKey: string,
): Promise<LoadResult> {
  const counter = { staged: 0 };
  // A staging table larger than temp_buffers (8 MB by default) spills to disk. The setting can only
  // change before the session's first temp table, so a reused session keeps what it had.
  await client.query(`SET temp_buffers = '${STAGING_BUFFERS}'`).catch(() => undefined);
  await client.query('BEGIN');
  try {
    await client.query(
      `CREATE TEMP TABLE events_staging ON COMMIT DROP AS
         SELECT ${EVENT_COLUMNS.join(', ')} FROM events WITH NO DATA`,
    );
    const copy = client.query(copyFrom(`COPY events_staging (${EVENT_COLUMNS.join(', ')}) FROM STDIN`));
    await pipeline(Readable.from(copyChunks(events, counter)), copy);
    const columns = EVENT_COLUMNS.join(', ');
    // Fast path: a plain insert, which costs about what COPY does. Only when the object repeats an
    // event already stored (a retry, a Firehose duplicate, a concurrent overlapping load) does it
    // fail on the primary key; then the savepoint is rolled back and ON CONFLICT DO NOTHING (whose
    // speculative insertion is about 50% slower) skips the known rows. An anti-join instead would
    // scan the whole events table once it is large.
    await client.query('SAVEPOINT plain_insert');
    let loaded: number;
    try {
      const inserted = await client.query(
        `INSERT INTO events (${columns}, source_key) SELECT ${columns}, $1 FROM events_staging`,
        [sourceKey],
      );
      loaded = inserted.rowCount ?? 0;
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await client.query('ROLLBACK TO SAVEPOINT plain_insert');
      const inserted = await client.query(
        `INSERT INTO events (${columns}, source_key) SELECT ${columns}, $1 FROM events_staging
         ON CONFLICT (event_id) DO NOTHING`,
        [sourceKey],
      );
      loaded = inserted.rowCount ?? 0;
    }
    await client.query('COMMIT');
    return { staged: counter.staged, loaded };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
