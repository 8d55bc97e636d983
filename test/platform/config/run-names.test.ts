import { MAX_RUN_NAME_PREFIX, resolveAppConfig } from '../../../lib/platform/config/app-config';
import { fixtureDesign, registry } from '../../support/fixture-design';

describe('run names', () => {
  test('carry the design and the profile, so a sandbox never touches its production in one account', () => {
    const designs = registry(fixtureDesign());
    const sandbox = resolveAppConfig({ profile: 'sandbox' }, designs);
    const production = resolveAppConfig({ profile: 'production' }, designs);
    expect(sandbox.runNamePrefix).toBe('feed-ranking-sbx');
    expect(production.runNamePrefix).toBe('feed-ranking-prod');
    // Neither is a prefix of the other's run names.
    expect(`${production.runNamePrefix}-x`.startsWith(`${sandbox.runNamePrefix}-`)).toBe(false);
    // A run name is the prefix, '-' and a UUID: at most 63 characters.
    expect(production.runNamePrefix.length + 37).toBeLessThanOrEqual(63);
  });

  test('a design id up to 21 characters fits; one longer fails synth, naming it', () => {
    const resolve = (id: string) => () => resolveAppConfig({ design: id }, registry(fixtureDesign({ id })));
    const longest = 'feed-ranking-abcdefgh';
    expect(longest).toHaveLength(MAX_RUN_NAME_PREFIX - '-prod'.length);
    expect(resolve(longest)().runNamePrefix).toBe('feed-ranking-abcdefgh-sbx');
    expect(resolve(`${longest}i`)).toThrow(
      /feed-ranking-abcdefghi\.id: must be lower-case letters and digits in words joined by '-', starting with a letter, at most 21 characters/,
    );
  });

  test('a design id with upper-case letters or a leading digit fails synth', () => {
    for (const id of ['Feed-ranking', '1feed', 'feed_ranking', 'feed--ranking', 'feed-']) {
      expect(() => resolveAppConfig({ design: id }, registry(fixtureDesign({ id })))).toThrow(
        new RegExp(`${id}\\.id: must be lower-case letters`),
      );
    }
  });
});
