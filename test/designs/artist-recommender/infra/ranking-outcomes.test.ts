import * as fs from 'node:fs';
import * as path from 'node:path';
import { RANKING_OUTCOME_METRICS } from '../../../../lib/platform/constructs/serving/cached-ranking/ranking-function';

const HANDLER = path.join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'lambda',
  'artist-recommender',
  'recommendations',
  'handler.ts',
);

test('the cached-ranking handler counts every outcome the cache hit ratio subtracts, under the same names', () => {
  // GIVEN the recommender's serving handler, whose cache hits count nothing
  const source = fs.readFileSync(HANDLER, 'utf8');
  // THEN each outcome the hit ratio subtracts from the invocations is a metric name it writes
  for (const name of RANKING_OUTCOME_METRICS) {
    expect({ name, written: source.includes(`'${name}'`) }).toEqual({ name, written: true });
  }
});
