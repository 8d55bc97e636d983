import { createHash } from 'node:crypto';
import { KEY_PART_PATTERN } from '../shared/cache-layout';

export interface VersionInputs {
  readonly modelVersion: string;
  /** ETag of `recommendations.jsonl`: identifies its exact bytes. */
  readonly recommendationsEtag: string;
  readonly popularityEtag: string;
  readonly variant: string;
}

/**
 * The version id of a load: a readable prefix from the model version, then a hash of everything that
 * decides the content. Rerunning the same load (a Step Functions retry, a redrive) derives the same
 * id, so it rewrites the same keys or finds the pointer already swapped; a re-uploaded file or a
 * different variant gets a new one.
 */
export function deriveVersion(inputs: VersionInputs): string {
  const hash = createHash('sha256')
    .update(
      JSON.stringify([
        inputs.modelVersion,
        inputs.recommendationsEtag,
        inputs.popularityEtag,
        inputs.variant,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  const prefix = inputs.modelVersion.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 96) || 'model';
  const version = `${prefix}.${hash}`;
  // Cannot fail with the replacement above; checked so a change to the pattern cannot slip through.
  if (!KEY_PART_PATTERN.test(version)) throw new Error(`derived version ${version} is not a valid key part`);
  return version;
}
