import { DeadlineExceededError } from '../shared/deadline';

/** What went wrong on the way to an answer: reported as metrics and logs, never to the caller. */
export type Degradation =
  'records-timeout' | 'records-error' | 'model-timeout' | 'model-error' | 'model-answer-invalid';

/** The model's scores for the candidates, in their order, and the version that gave them. */
export interface ModelScores {
  readonly scores: readonly number[];
  readonly modelVersion: string;
}

export interface RealtimeScoring<C, R> {
  readonly candidates: readonly C[];
  /** Reads what the model and the fallback need; if it fails, both go on without it. */
  readRecords(): Promise<R>;
  /** Asks the model for one score in [0, 1] per candidate, in order; `records` is undefined when they could not be read. */
  score(records: R | undefined): Promise<ModelScores>;
  /** The candidate's own prior from the records, if they hold one. */
  prior(candidate: C, records: R): number | undefined;
  /** The prior of a candidate with none of its own, in [0, 1]. */
  readonly globalPrior: number;
  /**
   * Answer from the priors without asking the model (an operator's switch, not a failure: no
   * degradation is reported). @default false
   */
  readonly skipModel?: boolean;
  onDegradation?(kind: Degradation, error: unknown): void;
}

export type ScoredCandidates<R> =
  | {
      readonly source: 'model';
      readonly scores: number[];
      readonly modelVersion: string;
      readonly records?: R;
    }
  | {
      readonly source: 'fallback';
      readonly scores: number[];
      /** Candidates that got the global prior, for want of their own. */
      readonly globalPriorCount: number;
      readonly records?: R;
    };

/** The model answered, but not with one score in [0, 1] per candidate. */
export class ModelScoresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelScoresError';
  }
}

/**
 * The real-time scoring decision: read the records, then ask the model; when the model fails,
 * times out or answers out of contract, each candidate gets its own prior from the records, else
 * the global prior. The records failing does not stop the model from being asked. Never throws for
 * a failure of either dependency: only a defect of the callbacks themselves propagates.
 */
export async function scoreWithFallback<C, R>(scoring: RealtimeScoring<C, R>): Promise<ScoredCandidates<R>> {
  const report = scoring.onDegradation ?? (() => undefined);
  let records: R | undefined;
  try {
    records = await scoring.readRecords();
  } catch (error) {
    report(isTimeout(error) ? 'records-timeout' : 'records-error', error);
  }

  if (!scoring.skipModel) {
    try {
      const answer = await scoring.score(records);
      checkScores(answer.scores, scoring.candidates.length);
      return { source: 'model', scores: [...answer.scores], modelVersion: answer.modelVersion, records };
    } catch (error) {
      report(
        error instanceof ModelScoresError
          ? 'model-answer-invalid'
          : isTimeout(error)
            ? 'model-timeout'
            : 'model-error',
        error,
      );
    }
  }

  let globalPriorCount = 0;
  const scores = scoring.candidates.map((candidate) => {
    const own = records === undefined ? undefined : scoring.prior(candidate, records);
    if (own !== undefined && Number.isFinite(own) && own >= 0 && own <= 1) return own;
    globalPriorCount += 1;
    return scoring.globalPrior;
  });
  return { source: 'fallback', scores, globalPriorCount, records };
}

/** Throws a ModelScoresError unless `scores` holds `count` numbers in [0, 1]. */
export function checkScores(scores: readonly number[], count: number): void {
  if (!Array.isArray(scores) || scores.length !== count) {
    throw new ModelScoresError(
      `expected ${count} scores, got ${Array.isArray(scores) ? scores.length : typeof scores}`,
    );
  }
  const bad = scores.findIndex((s) => typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > 1);
  if (bad >= 0) throw new ModelScoresError(`score ${bad} is ${String(scores[bad])}, not in [0, 1]`);
}

/** A deadline that passed (the readers and the endpoint report it as DeadlineExceededError). */
function isTimeout(error: unknown): boolean {
  return error instanceof DeadlineExceededError;
}
