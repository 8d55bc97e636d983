import {
  BadRequestError,
  MAX_LIMIT,
  parseRecommendationRequest,
} from '../../../../../lambda/artist-recommender/recommendations/request';

type Event = Parameters<typeof parseRecommendationRequest>[0];

const event = (overrides: Partial<Event> = {}): Event => ({
  httpMethod: 'GET',
  pathParameters: { userId: 'user-1' },
  multiValueQueryStringParameters: null,
  ...overrides,
});

function rejection(input: Event): BadRequestError {
  try {
    parseRecommendationRequest(input, 10);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return error as BadRequestError;
  }
  throw new Error('expected a BadRequestError');
}

describe('parseRecommendationRequest', () => {
  it('uses the default limit without a query string', () => {
    expect(parseRecommendationRequest(event(), 10)).toEqual({ userId: 'user-1', limit: 10 });
  });

  it('uses the default limit when other parameters are given', () => {
    expect(
      parseRecommendationRequest(event({ multiValueQueryStringParameters: { other: ['1'] } }), 7),
    ).toEqual({
      userId: 'user-1',
      limit: 7,
    });
  });

  it.each(['1', '5', '10', '099', String(MAX_LIMIT)])('accepts limit=%s', (limit) => {
    expect(
      parseRecommendationRequest(event({ multiValueQueryStringParameters: { limit: [limit] } }), 10).limit,
    ).toBe(Number(limit));
  });

  it.each(['user-1', 'A', 'a.b_c-D', '0'.repeat(64)])('accepts the user id %j', (userId) => {
    expect(parseRecommendationRequest(event({ pathParameters: { userId } }), 10).userId).toBe(userId);
  });

  it.each(['POST', 'PUT', 'DELETE', 'HEAD', 'get', ''])('answers 405 to %j', (httpMethod) => {
    const error = rejection(event({ httpMethod }));
    expect(error.statusCode).toBe(405);
    expect(error.field).toBe('method');
  });

  it('truncates a huge method in the message', () => {
    const error = rejection(event({ httpMethod: 'X'.repeat(10_000) }));
    expect(error.message.length).toBeLessThan(100);
  });

  it.each([
    ['empty', ''],
    ['too long', 'u'.repeat(65)],
    ['a slash', 'a/b'],
    ['a colon (key forging)', 'a:b'],
    ['a space', 'a b'],
    ['a star', 'user*'],
    ['unicode', 'usér'],
    ['an emoji', 'user-😀'],
    ['a NUL', 'user\u0000'],
    ['a newline', 'user\n'],
    ['percent-encoding', 'user%2F1'],
  ])('answers 400 to a user id with %s', (_name, userId) => {
    const error = rejection(event({ pathParameters: { userId } }));
    expect(error.statusCode).toBe(400);
    expect(error.field).toBe('userId');
  });

  it.each([null, {}, { id: 'user-1' }])('answers 400 without a user id in %j', (pathParameters) => {
    expect(rejection(event({ pathParameters })).field).toBe('userId');
  });

  it.each([
    ['0', ['0']],
    ['101', ['101']],
    ['-1', ['-1']],
    ['1.5', ['1.5']],
    ['abc', ['abc']],
    ['empty', ['']],
    ['1e2', ['1e2']],
    ['0x10', ['0x10']],
    ['a leading space', [' 5']],
    ['a trailing space', ['5 ']],
    ['full-width digits', ['１０']],
    ['four digits', ['1000']],
    ['a huge string', ['9'.repeat(100_000)]],
    ['two values', ['5', '6']],
    ['no value', []],
  ])('answers 400 to limit %s', (_name, limit) => {
    const error = rejection(event({ multiValueQueryStringParameters: { limit } }));
    expect(error.statusCode).toBe(400);
    expect(error.field).toBe('limit');
  });

  it('checks the method first, then the user id, then the limit', () => {
    expect(
      rejection({
        httpMethod: 'POST',
        pathParameters: null,
        multiValueQueryStringParameters: { limit: ['0'] },
      }).field,
    ).toBe('method');
    expect(
      rejection({
        httpMethod: 'GET',
        pathParameters: null,
        multiValueQueryStringParameters: { limit: ['0'] },
      }).field,
    ).toBe('userId');
  });
});
