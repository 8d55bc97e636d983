/**
 * `npm run e2e:local -- [--design <id>] [options]`: a design's whole path on this machine, through
 * the code the cloud runs: scripts/<id>/e2e-local.ts with the other options; without --design, every
 * design in turn (scripts/support/design-dispatch.ts says how the output and exit code then read).
 * `--help` lists this script's option, then each design's own.
 */
import { DESIGNS } from '../lib/designs';
import { runMain } from './support/cli';
import { dispatch } from './support/design-dispatch';

runMain('e2e:local', () =>
  dispatch(
    {
      name: 'e2e:local',
      description: "A design's whole path on this machine, through the code the cloud runs.",
      folder: 'scripts',
      file: 'e2e-local.ts',
    },
    Object.keys(DESIGNS),
    process.argv.slice(2),
  ),
);
