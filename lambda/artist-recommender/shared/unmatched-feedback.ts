/**
 * Why a feedback item labels no served item, in the order `unmatched_feedback()`
 * (sql/artist-recommender/migrations/006_feedback_labels.sql) checks them: no list was served under
 * its request id, the list did not hold its artist, or the list was served more than the feedback
 * window (7 days) before it. The feature build and the snapshot manifest report a count for each.
 */
export const UNMATCHED_FEEDBACK_REASONS = ['unknown_request', 'unknown_item', 'expired_request'] as const;
export type UnmatchedFeedbackReason = (typeof UNMATCHED_FEEDBACK_REASONS)[number];
export type UnmatchedFeedbackCounts = Record<UnmatchedFeedbackReason, number>;

/** Counts by reason from `SELECT reason, count(*) AS n ... GROUP BY reason` rows; every reason present. */
export function unmatchedFeedbackCounts(
  rows: readonly { reason: string; n: string | number }[],
): UnmatchedFeedbackCounts {
  const counts = Object.fromEntries(
    UNMATCHED_FEEDBACK_REASONS.map((reason) => [reason, 0]),
  ) as UnmatchedFeedbackCounts;
  for (const row of rows) {
    if (!(row.reason in counts)) throw new Error(`unknown unmatched feedback reason ${row.reason}`);
    counts[row.reason as UnmatchedFeedbackReason] = Number(row.n);
  }
  return counts;
}
