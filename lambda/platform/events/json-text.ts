/**
 * Checks on JSON text that JSON.parse cannot make: it keeps only the last of repeated keys, and
 * JavaScript strings may hold lone surrogates that UTF-8 cannot encode.
 */

/** A UTF-16 surrogate without its partner: text that UTF-8 cannot encode. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A key named twice in one object: `path` leads from the root to that object. */
export interface RepeatedKey {
  path: (string | number)[];
  key: string;
}

/**
 * The keys of `names` that an object of `text` (valid JSON) names more than once. JSON.parse keeps
 * the last value of a repeated key and drops the others without a word, so
 * `{"event_id":"a","event_id":"b"}` would become event `b` and event `a` would be lost: such an
 * event is refused instead, since which value was meant cannot be told. Keys written with escapes
 * (`"\u0065vent_id"`) are decoded before they are compared.
 */
export function findRepeatedKeys(text: string, names: ReadonlySet<string>): RepeatedKey[] {
  interface Frame {
    object: boolean;
    /** Where this container sits in its parent: a key or an array index. */
    at: string | number;
    /** The last key read (objects), or the index of the current element (arrays). */
    key: string | number;
    seen?: Set<string>;
  }
  const found: RepeatedKey[] = [];
  const stack: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let end = i + 1;
      let escaped = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 0x5c) {
          escaped = true;
          end++;
        } else if (d === 0x22) {
          break;
        }
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.object) {
        const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        top.key = key;
        if (names.has(key)) {
          top.seen ??= new Set();
          if (top.seen.has(key)) found.push({ path: stack.slice(1).map((frame) => frame.at), key });
          else top.seen.add(key);
        }
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = stack[stack.length - 1];
      stack.push({ object: c === 0x7b, at: parent ? parent.key : '', key: 0 });
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top?.object) expectKey = true;
      else if (top) top.key = (top.key as number) + 1;
    }
  }
  return found;
}

/** The end of a key token: its closing quote and the colon after it. */
const KEY_END = /"\s*:/g;

/**
 * The first key of `names` that the top-level object `text` names twice, or undefined; `value` is
 * what JSON.parse made of it. Every key of the text, however it is spelled, ends with `"` and `:`;
 * so when the text holds no more such ends than the parsed object has keys, no key was repeated.
 * Only the other texts (a repeat, a nested object, a `\":` inside a string) are scanned token by
 * token: the check costs the others one native regex pass.
 */
export function repeatedTopLevelKey(
  text: string,
  value: unknown,
  names: ReadonlySet<string>,
): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const ends = text.match(KEY_END)?.length ?? 0;
  if (ends <= Object.keys(value).length) return undefined;
  return findRepeatedKeys(text, names).find((repeat) => repeat.path.length === 0)?.key;
}
