-- Account data is PII: the date of birth is read only by the feature SQL, which exports age groups.
CREATE TABLE accounts (
  user_id       text PRIMARY KEY,
  date_of_birth date,
  city          text,
  state         text,
  country       text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
