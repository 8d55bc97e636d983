import { featureDefinitions } from '../../../../lib/platform/constructs/data/feature-definitions';
import {
  USER_FEATURE_GROUP,
  USER_FEATURE_NAMES,
  UserFeatures,
} from '../../../../lib/designs/artist-recommender/contracts/features';
import { parseRecord } from '../../../../lambda/artist-recommender/feature-store-ingest/ingest';

const record = {
  user_id: 'u7',
  age_group: '25-34',
  location: 'us/ca/san francisco',
  top_artists: 'a1,a2,a3',
  top_songs: 's1-0',
  interaction_count: 7,
  event_time: '2026-02-15T00:00:00.000Z',
};

describe('the user feature contract', () => {
  it('defines the feature group the data stack deploys today, feature for feature', () => {
    // A changed definition replaces the feature group (and its online store): the derived one must
    // be the deployed one.
    expect(featureDefinitions(UserFeatures)).toEqual([
      { name: 'user_id', type: 'String' },
      { name: 'age_group', type: 'String' },
      { name: 'location', type: 'String' },
      { name: 'top_artists', type: 'String' },
      { name: 'top_songs', type: 'String' },
      { name: 'interaction_count', type: 'Integral' },
      { name: 'event_time', type: 'String' },
    ]);
    expect(USER_FEATURE_GROUP).toMatchObject({ recordIdentifier: 'user_id', eventTime: 'event_time' });
    expect(USER_FEATURE_NAMES).toEqual(Object.keys(record));
  });

  it("is what the ingest checks every line against, with the contract's messages", () => {
    expect(parseRecord(JSON.stringify(record))).toMatchObject({ ok: true });
    for (const name of USER_FEATURE_NAMES) {
      expect(parseRecord(JSON.stringify({ ...record, [name]: undefined }))).toEqual({
        ok: false,
        reason: `${name} is missing`,
      });
    }
    expect(parseRecord(JSON.stringify({ ...record, interaction_count: 1.5 }))).toEqual({
      ok: false,
      reason: 'interaction_count must be a non-negative integer',
    });
    expect(parseRecord(JSON.stringify({ ...record, event_time: '2026-02-15T25:00:00Z' }))).toEqual({
      ok: false,
      reason: 'event_time must be an ISO-8601 timestamp with a zone',
    });
  });
});
