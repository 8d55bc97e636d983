/**
 * The integration test app: the sandbox of the default design plus its assertions
 * (./sandbox-integ-app.ts). `npm run integ` deploys it, `npm run integ:update` re-synthesizes its
 * snapshot, and test/designs/artist-recommender/integ/snapshot.test.ts checks the snapshot without deploying.
 */
import { buildSandboxIntegApp } from './sandbox-integ-app';

buildSandboxIntegApp().app.synth();
