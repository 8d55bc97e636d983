import { chooseFeatureEngine, LAKE_THRESHOLD_EVENTS } from '../../../lib/platform/config/feature-engine';

describe('chooseFeatureEngine', () => {
  it('keeps a design whose build reads up to the threshold on PostgreSQL', () => {
    const choice = chooseFeatureEngine({
      dailyActiveUsers: 10_000,
      eventsPerUserPerDay: 20,
      historyDays: 30,
    });
    expect(choice).toEqual({
      engine: 'postgres',
      eventsRead: 6_000_000,
      thresholdEvents: LAKE_THRESHOLD_EVENTS,
    });
    expect(
      chooseFeatureEngine({
        dailyActiveUsers: LAKE_THRESHOLD_EVENTS / 30,
        eventsPerUserPerDay: 1,
        historyDays: 30,
      }).engine,
    ).toBe('postgres');
  });

  it('moves a design past the threshold to the lake', () => {
    expect(
      chooseFeatureEngine({ dailyActiveUsers: 20_000, eventsPerUserPerDay: 20, historyDays: 30 }).engine,
    ).toBe('lake');
    expect(
      chooseFeatureEngine({ dailyActiveUsers: 10_000, eventsPerUserPerDay: 20, historyDays: 30 }, 1e6).engine,
    ).toBe('lake');
  });

  it('refuses a volume that is not a count', () => {
    expect(() =>
      chooseFeatureEngine({ dailyActiveUsers: -1, eventsPerUserPerDay: 20, historyDays: 30 }),
    ).toThrow('finite and not negative');
    expect(() =>
      chooseFeatureEngine({ dailyActiveUsers: Infinity, eventsPerUserPerDay: 20, historyDays: 30 }),
    ).toThrow('finite');
  });
});
