/**
 * A JSON document that CloudFormation assembles from pieces (a state machine's `DefinitionString`:
 * `Fn::Join` of text and intrinsics), parsed into its structure with each intrinsic left in its
 * place, so a reference inside it has a path (`States.Train.Parameters.RoleArn`). A string that
 * holds an intrinsic among text becomes an `Fn::Join` of its pieces. A document that does not parse
 * (an intrinsic outside a JSON string) comes back as it was given.
 */
export function parseJoinedJson(value: unknown): unknown {
  if (typeof value === 'string') return tryParse(value, []) ?? value;
  const join = (value as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'];
  if (!Array.isArray(join) || join[0] !== '' || !Array.isArray(join[1])) return value;
  const intrinsics: unknown[] = [];
  const text = (join[1] as unknown[])
    .map((part) => {
      if (typeof part === 'string') return part;
      intrinsics.push(part);
      return placeholder(intrinsics.length - 1);
    })
    .join('');
  return tryParse(text, intrinsics) ?? value;
}

const PLACEHOLDER = /@@intrinsic(\d+)@@/g;
const placeholder = (i: number) => `@@intrinsic${i}@@`;

function tryParse(text: string, intrinsics: readonly unknown[]): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return restore(parsed, intrinsics);
}

function restore(value: unknown, intrinsics: readonly unknown[]): unknown {
  if (typeof value === 'string') {
    const pieces = value.split(PLACEHOLDER);
    if (pieces.length === 1) return value;
    // split with a capturing group: text, index, text, index, ..., text.
    const parts = pieces
      .map((piece, i) => (i % 2 === 1 ? intrinsics[Number(piece)] : piece))
      .filter((part) => part !== '');
    return parts.length === 1 ? parts[0] : { 'Fn::Join': ['', parts] };
  }
  if (Array.isArray(value)) return value.map((item) => restore(item, intrinsics));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, restore(item, intrinsics)]));
  }
  return value;
}
