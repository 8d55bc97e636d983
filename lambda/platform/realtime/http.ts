import type { APIGatewayProxyResult } from 'aws-lambda';

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The error body of every 4xx and 5xx: a stable code, a sentence for humans, and the field at fault. */
export function errorResponse(
  statusCode: number,
  error: string,
  message: string,
  field?: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return jsonResponse(statusCode, field ? { error, message, field } : { error, message }, headers);
}
