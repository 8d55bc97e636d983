import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EVENT_FIELDS, type CleanEvent } from '../events/schema';
import type { StoredEvent } from './stored-event';

/** The columns of `events` the ETL fills: the contract's fields, one column each. */
export const EVENT_COLUMNS = EVENT_FIELDS;

/**
 * The columns the other kinds add to the staging table (migrations/005_served_items_and_feedback.sql):
 * a served item's position, artist, model version, source and score, a feedback's artist and click.
 */
const EXTRA_COLUMNS = ['position', 'artist_id', 'model_version', 'source', 'score', 'clicked'] as const;
const STAGING_COLUMNS = ['kind', ...EVENT_COLUMNS, ...EXTRA_COLUMNS];

const COPY_CHUNK_CHARS = 256 * 1024;
const STAGING_BUFFERS = '64MB';
const UNIQUE_VIOLATION = '23505';
const NULL = '\\N';

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

/** A staging row from values by column name; the columns a kind does not have are NULL. */
function stagingRow(values: Partial<Record<(typeof STAGING_COLUMNS)[number], string | null>>): string {
  return STAGING_COLUMNS.map((column) => {
    const value = values[column];
    return value === undefined || value === null ? NULL : copyText(value);
  }).join('\t');
}

const INTERACTION_TAIL = EXTRA_COLUMNS.map(() => NULL).join('\t');

/**
 * The staging rows of one stored event, terminators included: an interaction is one row, a served
 * list one row per item, a feedback one row. A score goes out as JavaScript writes the number,
 * which PostgreSQL reads back to the same double.
 */
export function toStagingRows(event: StoredEvent): string {
  if (event.event_type === 'recommendation') {
    let rows = '';
    for (const item of event.items) {
      rows +=
        stagingRow({
          kind: 'served_items',
          event_id: event.event_id,
          request_id: event.request_id,
          user_id: event.user_id,
          variant: event.variant,
          ts: event.ts,
          position: String(item.position),
          artist_id: item.artist_id,
          model_version: event.model_version,
          source: event.source,
          score: String(item.score),
        }) + '\n';
    }
    return rows;
  }
  if (event.event_type === 'feedback') {
    return (
      stagingRow({
        kind: 'feedback',
        event_id: event.event_id,
        request_id: event.request_id,
        user_id: event.user_id,
        variant: event.variant,
        ts: event.ts,
        artist_id: event.artist_id,
        clicked: event.clicked ? 't' : 'f',
      }) + '\n'
    );
  }
  return `events\t${toCopyRow(event).slice(0, -1)}\t${INTERACTION_TAIL}\n`;
}

async function* copyChunks(
  batches: AsyncIterable<StoredEvent[]>,
  counter: { staged: number },
): AsyncGenerator<string> {
  let chunk = '';
  for await (const events of batches) {
    for (const event of events) chunk += toStagingRows(event);
    counter.staged += events.length;
    if (chunk.length >= COPY_CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

export interface LoadResult {
  /** Events (lines of any kind) copied into the staging table. */
  staged: number;
  /** Lines newly stored, of any kind; staged - loaded were already there. */
  loaded: number;
  /** Served lists newly stored (their items are in served_items). */
  loadedRecommendations: number;
  /** served_items rows newly inserted. */
  loadedServedItems: number;
  /** Feedback rows newly inserted. */
  loadedFeedback: number;
}

async function insertInteractions(client: ClientBase, sourceKey: string): Promise<number> {
  const columns = EVENT_COLUMNS.join(', ');
  const select = `SELECT ${columns}, $1 FROM load_staging WHERE kind = 'events'`;
  // Fast path: a plain insert, which costs about what COPY does. Only when the object repeats an
  // event already stored (a retry, a Firehose duplicate, a concurrent overlapping load) does it
  // fail on the primary key; then the savepoint is rolled back and ON CONFLICT DO NOTHING (whose
  // speculative insertion is about 50% slower) skips the known rows. An anti-join instead would
  // scan the whole events table once it is large.
  await client.query('SAVEPOINT plain_insert');
  try {
    const inserted = await client.query(`INSERT INTO events (${columns}, source_key) ${select}`, [sourceKey]);
    return inserted.rowCount ?? 0;
  } catch (error) {
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    await client.query('ROLLBACK TO SAVEPOINT plain_insert');
    const inserted = await client.query(
      `INSERT INTO events (${columns}, source_key) ${select} ON CONFLICT (event_id) DO NOTHING`,
      [sourceKey],
    );
    return inserted.rowCount ?? 0;
  }
}

/**
 * Served lists whose request id is not stored yet, whole: a list is never merged into another one
 * under the same request id. The unique key still settles a concurrent load of the same list.
 */
async function insertServedItems(
  client: ClientBase,
  sourceKey: string,
): Promise<{ lists: number; items: number }> {
  const { rows } = await client.query<{ lists: string; items: string }>(
    `WITH inserted AS (
       INSERT INTO served_items
         (request_id, position, user_id, artist_id, variant, model_version, source, score, ts, source_key)
       SELECT st.request_id, st.position, st.user_id, st.artist_id, st.variant, st.model_version, st.source,
              st.score, st.ts, $1
         FROM load_staging st
        WHERE st.kind = 'served_items'
          AND NOT EXISTS (SELECT 1 FROM served_items s WHERE s.request_id = st.request_id)
       ON CONFLICT (request_id, position) DO NOTHING
       RETURNING request_id)
     SELECT count(DISTINCT request_id) AS lists, count(*) AS items FROM inserted`,
    [sourceKey],
  );
  return { lists: Number(rows[0].lists), items: Number(rows[0].items) };
}

async function insertFeedback(client: ClientBase, sourceKey: string): Promise<number> {
  const inserted = await client.query(
    `INSERT INTO feedback (event_id, request_id, user_id, artist_id, clicked, variant, ts, source_key)
     SELECT event_id, request_id, user_id, artist_id, clicked, variant, ts, $1
       FROM load_staging WHERE kind = 'feedback'
     ON CONFLICT (event_id) DO NOTHING`,
    [sourceKey],
  );
  return inserted.rowCount ?? 0;
}

/**
 * Streams events of every kind into one transaction-local staging table with COPY, then moves the
 * ones not yet stored into their tables (`events`, `served_items`, `feedback`), so a retried or
 * overlapping load never duplicates a row. All or nothing: a failure (including one raised by the
 * source) rolls the whole object back.
 */
export async function loadEvents(
  client: ClientBase,
  events: AsyncIterable<StoredEvent[]>,
  sourceKey: string,
): Promise<LoadResult> {
  const counter = { staged: 0 };
  // A staging table larger than temp_buffers (8 MB by default) spills to disk. The setting can only
  // change before the session's first temp table, so a reused session keeps what it had.
  await client.query(`SET temp_buffers = '${STAGING_BUFFERS}'`).catch(() => undefined);
  await client.query('BEGIN');
  try {
    // The interaction columns take their types from `events`; one staging table for every kind
    // keeps a single COPY stream per object, in line order.
    await client.query(
      `CREATE TEMP TABLE load_staging ON COMMIT DROP AS
         SELECT ''::text AS kind, ${EVENT_COLUMNS.join(', ')},
                NULL::integer AS position, NULL::text AS artist_id, NULL::text AS model_version,
                NULL::text AS source, NULL::double precision AS score, NULL::boolean AS clicked
           FROM events WITH NO DATA`,
    );
    const copy = client.query(copyFrom(`COPY load_staging (${STAGING_COLUMNS.join(', ')}) FROM STDIN`));
    await pipeline(Readable.from(copyChunks(events, counter)), copy);
    const interactions = await insertInteractions(client, sourceKey);
    const served = await insertServedItems(client, sourceKey);
    const feedback = await insertFeedback(client, sourceKey);
    await client.query('COMMIT');
    return {
      staged: counter.staged,
      loaded: interactions + served.lists + feedback,
      loadedRecommendations: served.lists,
      loadedServedItems: served.items,
      loadedFeedback: feedback,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
