import { appUnderTest } from './app-under-test';

// Whole-template snapshots: any change to what deploys shows up in review. Asset hashes are masked
// by test/setup/asset-hash-serializer.ts so a handler edit does not churn them.
describe.each(['sandbox', 'production'] as const)('%s templates', (profile) => {
  test('network stack', () => {
    expect(appUnderTest(profile).network.toJSON()).toMatchSnapshot();
  });

  test.each(['data', 'etl', 'ml', 'serving', 'pipeline'] as const)('%s stack', (stack) => {
    expect(appUnderTest(profile)[stack].toJSON()).toMatchSnapshot();
  });
});
