import { readServingConfig } from '../../../../../lambda/artist-recommender/recommendations/config';

const valid = {
  CACHE_HOST: 'cache.example.internal',
  CACHE_PORT: '6379',
};

function problemsOf(env: NodeJS.ProcessEnv): string {
  try {
    readServingConfig(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('readServingConfig', () => {
  it('applies the defaults', () => {
    expect(readServingConfig(valid)).toEqual({
      cacheHost: 'cache.example.internal',
      cachePort: 6379,
      cacheConnectTimeoutMs: 1000,
      cacheCommandTimeoutMs: 100,
      pointerTtlMs: 1000,
      modelEndpointName: undefined,
      modelTimeoutMs: 1000,
      modelAnswerTtlSeconds: 3600,
      variants: [{ name: 'champion', weight: 1 }],
      scoreThreshold: 0,
      defaultLimit: 10,
      modelTopK: 100,
      retryAfterSeconds: 5,
    });
  });

  it('reads every variable', () => {
    const config = readServingConfig({
      ...valid,
      CACHE_CONNECT_TIMEOUT_MS: '500',
      CACHE_COMMAND_TIMEOUT_MS: '50',
      POINTER_TTL_MS: '0',
      MODEL_ENDPOINT_NAME: 'recommender',
      MODEL_TIMEOUT_MS: '300',
      MODEL_ANSWER_TTL_SECONDS: '60',
      AB_VARIANTS: '[{"name":"champion","weight":0.9},{"name":"challenger","weight":0.1}]',
      SCORE_THRESHOLD: '-0.5',
      DEFAULT_LIMIT: '20',
      MODEL_TOP_K: '50',
      RETRY_AFTER_SECONDS: '30',
    });
    expect(config).toEqual({
      cacheHost: 'cache.example.internal',
      cachePort: 6379,
      cacheConnectTimeoutMs: 500,
      cacheCommandTimeoutMs: 50,
      pointerTtlMs: 0,
      modelEndpointName: 'recommender',
      modelTimeoutMs: 300,
      modelAnswerTtlSeconds: 60,
      variants: [
        { name: 'champion', weight: 0.9 },
        { name: 'challenger', weight: 0.1 },
      ],
      scoreThreshold: -0.5,
      defaultLimit: 20,
      modelTopK: 50,
      retryAfterSeconds: 30,
    });
  });

  it('treats an empty endpoint name as no endpoint', () => {
    expect(readServingConfig({ ...valid, MODEL_ENDPOINT_NAME: '' }).modelEndpointName).toBeUndefined();
  });

  it('names every missing required variable', () => {
    const message = problemsOf({});
    expect(message).toContain('CACHE_HOST is required');
    expect(message).toContain('CACHE_PORT is required');
  });

  it('names every bad field at once', () => {
    const bad: Record<string, string> = {
      CACHE_PORT: '70000',
      CACHE_CONNECT_TIMEOUT_MS: 'soon',
      CACHE_COMMAND_TIMEOUT_MS: '1',
      POINTER_TTL_MS: '-1',
      MODEL_TIMEOUT_MS: 'NaN',
      MODEL_ANSWER_TTL_SECONDS: '0',
      SCORE_THRESHOLD: '1.5',
      DEFAULT_LIMIT: '101',
      MODEL_TOP_K: 'Infinity',
      RETRY_AFTER_SECONDS: '3601',
    };
    const message = problemsOf({ CACHE_HOST: 'h', ...bad, AB_VARIANTS: 'not json' });
    for (const [name, value] of Object.entries(bad)) {
      expect(message).toContain(`${name} must be a number in`);
      expect(message).toContain(JSON.stringify(value));
    }
    expect(message).toContain('AB_VARIANTS must be JSON');
    expect(message.split('; ')).toHaveLength(Object.keys(bad).length + 1);
  });

  it.each([
    ['an object', '{"name":"champion","weight":1}'],
    ['an empty array', '[]'],
    ['a name that could forge a key', '[{"name":"a:b","weight":1}]'],
    ['a missing weight', '[{"name":"champion"}]'],
    ['a negative weight', '[{"name":"champion","weight":-1},{"name":"b","weight":2}]'],
    ['a string weight', '[{"name":"champion","weight":"1"}]'],
    ['only zero weights', '[{"name":"a","weight":0},{"name":"b","weight":0}]'],
    ['a null entry', '[null]'],
  ])('refuses AB_VARIANTS with %s', (_name, raw) => {
    expect(problemsOf({ ...valid, AB_VARIANTS: raw })).toContain('AB_VARIANTS must be a non-empty array');
  });
});
