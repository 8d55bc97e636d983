/**
 * The distributed path's load: clean lines of one raw object become staged JSON lines, one gzip
 * object per table (`staging/<table>/day=<day>/<object>.json.gz`), which the ETL's LoadLake step
 * moves into the lake's tables (`sql/artist-recommender/lake/load/`, new keys only). The lines are
 * validated, normalised and deduplicated within the object exactly as for the PostgreSQL load; the
 * dedupe against what is stored happens in the load query.
 */
import { LAKE_TABLES, type LakeTable } from '../lake/queries';
import { stagedLine } from '../lake/schema';
import { GzipBuffer } from './gzip-buffer';
import type { LoadResult } from './load';
import { tableOf, type StoredEvent } from './stored-event';

/** Where a staged object goes: S3 in AWS, a folder locally. */
export type StagingPut = (table: LakeTable, body: Buffer) => Promise<void>;

/** The staged lines of one stored event: an interaction or a feedback is one line, a served list one per item. */
function stagedLines(event: StoredEvent, sourceKey: string, line: number): { text: string; rows: number } {
  const table = tableOf(event);
  if (event.event_type === 'recommendation') {
    let text = '';
    for (const item of event.items) {
      text += stagedLine(
        'served_items',
        {
          ...event,
          position: item.position,
          artist_id: item.artist_id,
          score: item.score,
          source_key: sourceKey,
        },
        line,
      );
    }
    return { text, rows: event.items.length };
  }
  return { text: stagedLine(table, { ...event, source_key: sourceKey }, line), rows: 1 };
}

/**
 * Stages the clean lines of one object, every table's lines in one gzip object (none for a table
 * without lines). `loaded` counts the lines staged: the lake's load adds those whose key is new.
 */
export async function stageEvents(
  events: AsyncIterable<StoredEvent[]>,
  sourceKey: string,
  put: StagingPut,
): Promise<LoadResult> {
  const files = Object.fromEntries(LAKE_TABLES.map((t) => [t, new GzipBuffer()])) as Record<
    LakeTable,
    GzipBuffer
  >;
  let line = 0;
  let lists = 0;
  let feedback = 0;
  for await (const batch of events) {
    for (const event of batch) {
      line++;
      const { text, rows } = stagedLines(event, sourceKey, line);
      files[tableOf(event)].write(text, rows);
      if (event.event_type === 'recommendation') lists++;
      else if (event.event_type === 'feedback') feedback++;
    }
  }
  const bodies = await Promise.all(LAKE_TABLES.map(async (t) => [t, await files[t].close()] as const));
  for (const [table, body] of bodies) if (files[table].rows > 0) await put(table, body);
  return {
    staged: line,
    loaded: line,
    loadedRecommendations: lists,
    loadedServedItems: files.served_items.rows,
    loadedFeedback: feedback,
  };
}

/**
 * The staged object's key for a raw object: `staging/<table>/day=<day>/<raw file name>.json.gz`
 * (Hive's layout, which Athena's partition projection reads without a template).
 */
export function stagingKey(prefix: string, day: string, table: LakeTable, rawKey: string): string {
  const name = rawKey.slice(rawKey.lastIndexOf('/') + 1).replace(/\.gz$/, '');
  return `${prefix}${table}/day=${day}/${name}.json.gz`;
}
