import type { APIGatewayProxyEvent } from 'aws-lambda';

/** A user id: letters, digits, `_`, `-` and `.`, 1 to 64 characters (documented in the README). */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_LIMIT = 100;

export interface RecommendationRequest {
  readonly userId: string;
  readonly limit: number;
}

/** A request that cannot be served as sent: the client must change it. */
export class BadRequestError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = 'BadRequestError';
  }
}

/** Validates the parts of the request API Gateway cannot: method, user id shape, limit range. */
export function parseRecommendationRequest(
  event: Pick<APIGatewayProxyEvent, 'httpMethod' | 'pathParameters' | 'multiValueQueryStringParameters'>,
  defaultLimit: number,
): RecommendationRequest {
  if (event.httpMethod !== 'GET') {
    throw new BadRequestError(
      'method',
      `method ${String(event.httpMethod).slice(0, 16)} is not allowed; use GET`,
      405,
    );
  }
  const userId = event.pathParameters?.userId;
  if (typeof userId !== 'string' || !USER_ID_PATTERN.test(userId)) {
    throw new BadRequestError('userId', `userId must match ${USER_ID_PATTERN.source}`);
  }
  const limits = event.multiValueQueryStringParameters?.limit;
  if (limits === undefined || limits === null) return { userId, limit: defaultLimit };
  if (limits.length !== 1) {
    throw new BadRequestError('limit', 'limit must be given once');
  }
  const raw = limits[0];
  if (!/^[0-9]{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) {
    throw new BadRequestError('limit', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return { userId, limit: Number(raw) };
}
