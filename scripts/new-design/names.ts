/**
 * The spellings of a design id across the code: `feed-ranking` in paths and ids, `feed_ranking` for
 * its Python package, `feedRanking` and `FeedRanking` in TypeScript names and stack names,
 * `FEED_RANKING` in constants. A fork rewrites every spelling of the design it starts from.
 */
export interface DesignNames {
  readonly kebab: string;
  readonly snake: string;
  readonly camel: string;
  readonly pascal: string;
  readonly upper: string;
}

export function designNames(id: string): DesignNames {
  const words = id.split('-');
  const capitalised = words.map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  return {
    kebab: id,
    snake: words.join('_'),
    camel: words[0] + capitalised.slice(1).join(''),
    pascal: capitalised.join(''),
    upper: words.join('_').toUpperCase(),
  };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Each spelling of `from` as a whole name, with what replaces it. A spelling counts only where it
 * is not the inside of a longer word: for the id `ink-score`, `inkScore` in `blinkScores` is not the
 * design, `InkScore` in `addInkScoreStacks` is, and `ink_score` in `test_ink_score_model.py` is.
 */
function spellings(from: DesignNames, to: DesignNames): readonly (readonly [RegExp, string])[] {
  return [
    // Paths, ids and npm script names: not inside a longer kebab word.
    [new RegExp(`(?<![A-Za-z0-9-])${escape(from.kebab)}(?![a-z0-9])`, 'g'), to.kebab],
    // Python modules and file names, where `_` joins words: not after a letter or digit.
    [new RegExp(`(?<![A-Za-z0-9])${escape(from.snake)}(?![a-z0-9])`, 'g'), to.snake],
    [new RegExp(`(?<![A-Za-z0-9])${escape(from.upper)}(?![A-Z0-9])`, 'g'), to.upper],
    // TypeScript names: the Pascal spelling may follow a lower-case word (`addInkScoreStacks`).
    [new RegExp(`${escape(from.pascal)}(?![a-z])`, 'g'), to.pascal],
    [new RegExp(`(?<![A-Za-z0-9])${escape(from.camel)}(?![a-z])`, 'g'), to.camel],
  ];
}

/** `text` with every spelling of the design `from` replaced by the same spelling of `to`. */
export function renameDesign(text: string, from: DesignNames, to: DesignNames): string {
  let renamed = text;
  for (const [pattern, replacement] of spellings(from, to)) renamed = renamed.replace(pattern, replacement);
  return renamed;
}
