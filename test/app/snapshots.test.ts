import { appUnderTest, DESIGNS_AND_PROFILES } from './app-under-test';
import { builtForCollection } from './collect';

// Whole-template snapshots, one per design, profile and stack role: any change to what deploys shows
// up in review. Asset hashes are masked by test/setup/asset-hash-serializer.ts so a handler edit does
// not churn them.
describe.each(DESIGNS_AND_PROFILES)('%s %s templates', (design, profile) => {
  const app = builtForCollection(() => appUnderTest(design, profile));
  if (!app) return;

  test.each(Object.keys(app.byRole))('%s stack', (role) => {
    expect(app.template(role).toJSON()).toMatchSnapshot();
  });
});
