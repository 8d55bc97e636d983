import type { ClientBase } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Readable } from 'node:stream';
import { PROFILE_COLUMNS } from '../lake/schema';

/**
 * The k-anonymous profiles of the last feature build (feature_user_profile: age group and
 * generalised location, no birth date, no raw location) as CSV with a header, for the lake's
 * user_features query: the profiles go to the lake, the birth dates stay in the database.
 */
export function profilesCsv(client: ClientBase): Readable {
  return client.query(
    copyTo(
      `COPY (SELECT ${PROFILE_COLUMNS.join(', ')} FROM feature_user_profile ORDER BY user_id COLLATE "C")
         TO STDOUT WITH (FORMAT csv, HEADER true)`,
    ),
  );
}
