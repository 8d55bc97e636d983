import type { Design } from '../platform/config/design';
import { adClick } from './ad-click/design';
import { artistRecommender } from './artist-recommender/design';

/**
 * Every design this app can deploy, by id, picked with `-c design=<id>`; the first is the default.
 * A new design is a new folder under `lib/designs/` and one line here.
 */
export const DESIGNS: Readonly<Record<string, Design>> = {
  [artistRecommender.id]: artistRecommender,
  [adClick.id]: adClick,
};
