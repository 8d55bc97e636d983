import { parse } from '@aws-lambda-powertools/parser';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';

/** A body the client must change: the status, the field at fault and why. */
export interface BodyProblem {
  readonly ok: false;
  readonly statusCode: 400 | 413;
  readonly field: string;
  readonly message: string;
}

export type ParsedBody<T> = { readonly ok: true; readonly value: T } | BodyProblem;

/** Messages stay short: they are for a developer reading a 400, and never echo a long input back. */
const MAX_MESSAGE_LENGTH = 200;

/**
 * Parses a JSON request body with `schema` (through Powertools' parser), and names the first field
 * at fault when it does not fit: `candidates`, `context.device`, `items[3].id`, or the
 * unknown key itself. A body over `maxBytes` is refused before it is parsed.
 */
export function parseJsonBody<S extends z.ZodType>(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  schema: S,
  maxBytes: number,
): ParsedBody<z.infer<S>> {
  if (typeof event.body !== 'string' || event.body.length === 0) {
    return problem(400, 'body', 'a JSON body is required');
  }
  // A base64 body is 4/3 the size of its bytes; the bound holds for both before decoding.
  if (event.body.length > (event.isBase64Encoded ? Math.ceil((maxBytes * 4) / 3) : maxBytes)) {
    return problem(413, 'body', `the body is larger than ${maxBytes} bytes`);
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return problem(400, 'body', 'the body is not valid JSON');
  }
  const result = parse(json, undefined, schema, true);
  if (result.success) return { ok: true, value: result.data as z.infer<S> };
  const issues = (result.error.cause ?? []) as readonly Issue[];
  const issue = issues[0];
  if (!issue) return problem(400, 'body', 'the body does not match the request schema');
  const field = fieldOf(issue);
  return problem(400, field, `${field}: ${issue.message}`);
}

interface Issue {
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[];
  readonly message: string;
  readonly code?: string;
  readonly keys?: readonly string[];
}

function fieldOf(issue: Issue): string {
  const path = (issue.path ?? []).map((segment) =>
    typeof segment === 'object' && segment !== null ? segment.key : segment,
  );
  // An unknown key is reported on its object; the key itself is the field at fault.
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) path.push(issue.keys[0]);
  let field = '';
  for (const segment of path) {
    if (typeof segment === 'number') field += `[${segment}]`;
    else field += field ? `.${String(segment)}` : String(segment);
  }
  return truncate(field || 'body', 100);
}

function problem(statusCode: 400 | 413, field: string, message: string): BodyProblem {
  return { ok: false, statusCode, field, message: truncate(message, MAX_MESSAGE_LENGTH) };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
