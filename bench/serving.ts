/**
 * `npm run bench:serving -- [--design <id>] [options]`: what a design's serving function costs:
 * bench/<id>/serving.ts with the other options; without --design, every design in turn, and with
 * --json one JSON object keyed by design (scripts/support/design-dispatch.ts). `--help` lists this
 * script's option, then each design's own.
 */
import { DESIGNS } from '../lib/designs';
import { runMain } from '../scripts/support/cli';
import { dispatch } from '../scripts/support/design-dispatch';

runMain('bench:serving', () =>
  dispatch(
    {
      name: 'bench:serving',
      description:
        "What a design's serving function costs: its latency next to the raw call, and its bundle.",
      folder: 'bench',
      file: 'serving.ts',
    },
    Object.keys(DESIGNS),
    process.argv.slice(2),
  ),
);
