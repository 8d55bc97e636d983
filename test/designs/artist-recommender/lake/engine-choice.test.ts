import { artistRecommender } from '../../../../lib/designs/artist-recommender/design';
import { chooseFeatureEngine } from '../../../../lib/platform/config/feature-engine';

describe("the artist recommender's feature engine", () => {
  it('is the lake: 5M daily users x 20 events x 30 days is 3 billion events, past one database', () => {
    const choice = chooseFeatureEngine({
      dailyActiveUsers: artistRecommender.requirements.dailyActiveUsers,
      eventsPerUserPerDay: artistRecommender.data.eventsPerUserPerDay,
      historyDays: artistRecommender.data.historyDays,
    });
    expect(choice.eventsRead).toBe(3_000_000_000);
    expect(choice.engine).toBe('lake');
  });
});
