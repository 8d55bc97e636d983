import type { Design } from '../platform/config/design';
import { artistRecommender } from './artist-recommender/design';

/** Every design this app can deploy, by id; the first is the default. A new design is a new folder. */
export const DESIGNS: Readonly<Record<string, Design>> = {
  [artistRecommender.id]: artistRecommender,
};
