import { StringDecoder } from 'node:string_decoder';

/** One CSV record, numbered by the physical line it starts on (1 = the header). */
export interface CsvRecord {
  line: number;
  /** The fields, or undefined when the record could not be read (see `error`). */
  fields?: string[];
  error?: string;
}

/**
 * Reads RFC 4180 CSV from a byte stream, one record at a time, holding one chunk and one record
 * (at most `maxRecordChars`): quoted fields may hold commas, doubled quotes and newlines; CRLF and
 * LF both end a record; a leading byte-order mark is dropped; blank lines are skipped. A record
 * longer than the limit or with a stray quote is reported with its line number and skipped, and
 * reading goes on at the next line.
 */
export async function* readCsv(
  source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
  maxRecordChars = 64 * 1024,
): AsyncGenerator<CsvRecord[]> {
  const decoder = new StringDecoder('utf8');
  let fields: string[] = [];
  let field = '';
  let size = 0;
  let quoted = false;
  // Just read a quote inside a quoted field: either the closing one or the first of a pair.
  let quoteSeen = false;
  // The current field was quoted and is closed: only a comma or a line break may follow.
  let closed = false;
  // Inside a broken record: skip to the next line break outside quotes.
  let broken: string | undefined;
  let line = 1;
  let start = 1;
  let first = true;

  const reset = () => {
    fields = [];
    field = '';
    size = 0;
    quoted = false;
    quoteSeen = false;
    closed = false;
    broken = undefined;
  };

  const end = (batch: CsvRecord[]) => {
    if (broken !== undefined) batch.push({ line: start, error: broken });
    else if (!(fields.length === 0 && field === '')) {
      fields.push(field);
      batch.push({ line: start, fields });
    }
    reset();
  };

  for await (const chunk of source) {
    let text =
      typeof chunk === 'string' ? chunk : decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const batch: CsvRecord[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (broken !== undefined) {
        if (c === '\n') {
          end(batch);
          line++;
          start = line;
        }
        continue;
      }
      if (quoted) {
        if (quoteSeen) {
          quoteSeen = false;
          if (c === '"') {
            field += '"';
            continue;
          }
          quoted = false;
          closed = true;
          // Falls through: the quote closed the field and `c` follows it.
        } else if (c === '"') {
          quoteSeen = true;
          continue;
        } else {
          if (c === '\n') line++;
          field += c;
          if (++size > maxRecordChars) broken = `the record is longer than ${maxRecordChars} characters`;
          continue;
        }
      }
      if (closed && c !== ',' && c !== '\n' && c !== '\r') {
        broken = 'characters after a closing quote';
      } else if (c === ',') {
        fields.push(field);
        field = '';
        closed = false;
      } else if (c === '\n') {
        if (field.endsWith('\r')) field = field.slice(0, -1);
        end(batch);
        line++;
        start = line;
      } else if (c === '"') {
        if (field === '') quoted = true;
        else broken = 'a quote inside an unquoted field';
      } else {
        field += c;
        if (++size > maxRecordChars) broken = `the record is longer than ${maxRecordChars} characters`;
      }
    }
    if (batch.length > 0) yield batch;
  }
  const tail = decoder.end();
  const batch: CsvRecord[] = [];
  if (tail.length > 0) field += tail;
  if (quoted && !quoteSeen) broken = 'a quoted field is not closed';
  if (field.endsWith('\r')) field = field.slice(0, -1);
  end(batch);
  if (batch.length > 0) yield batch;
}
