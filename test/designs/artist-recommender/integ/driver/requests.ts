/** The generated data set: `scripts/generate-data.ts` with these options is the same data every time. */
export interface DataSpec {
  readonly users: number;
  readonly days: number;
  readonly seed: number;
}

/**
 * What the integration test asks the driver function to do, one operation per invocation.
 * - `recommendations`: a signed `GET /v1/users/{userId}/recommendations?limit=N`.
 * - `import-accounts`: uploads the data set's accounts CSV and runs the accounts import on it.
 * - `post-events`: posts every event of the data set through a signed `POST /v1/events`, 500 a request.
 * - `count-delivered`: counts the data set's events that Firehose wrote under `raw/<day>/`.
 */
export type DriverRequest =
  | { readonly op: 'recommendations'; readonly userId: string; readonly limit: number }
  | ({ readonly op: 'import-accounts' } & DataSpec)
  | ({ readonly op: 'post-events' } & DataSpec)
  | ({ readonly op: 'count-delivered' } & DataSpec);

export interface RecommendationsResult {
  readonly status: number;
  readonly source?: string;
  readonly items?: number;
  readonly error?: string;
}

export interface ImportAccountsResult {
  readonly rows: number;
  readonly upserted: number;
  readonly badLines: number;
}

export interface PostEventsResult {
  /** UTC day (YYYY-MM-DD) when the last request was answered. */
  readonly day: string;
  readonly events: number;
  readonly requests: number;
  /** Requests not answered 202 after their retries. */
  readonly failedRequests: number;
  readonly accepted: number;
  readonly rejected: number;
  /** The first refusal or rejection, to say why in the assertion's output. */
  readonly firstProblem?: string;
}

export interface CountDeliveredResult {
  readonly expected: number;
  /** The UTC day whose `raw/` partition holds most of the events (today when none arrived yet). */
  readonly day: string;
  readonly delivered: number;
  /** Events of the data set not (yet) in that day's partition. */
  readonly missing: number;
  /** Events found in the other day's partition (a post that straddled midnight UTC). */
  readonly elsewhere: number;
}
