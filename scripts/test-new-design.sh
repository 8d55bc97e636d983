#!/usr/bin/env bash
# `npm run test:new-design`: a design forked by `npm run new-design` works unchanged. In a copy of
# this working tree (tracked and untracked files, sharing node_modules, the virtual environments and
# .cache by symlink; this tree is not touched), it forks one design of each serving pattern, then runs
# what a newcomer would: the type check, lint and format of the new files, the forks' own tests and
# the app-wide suites for them (jest writes their first snapshots), their model tests, synth of both
# profiles with cfn-lint, e2e:local, their design pages and cost estimates. The ids differ in length from the
# designs they start from, so renaming has to keep the code formatted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT="$PWD"
readonly RANKING=feed-ranking
readonly SCORING=search-click-scoring

work="$(mktemp -d "${TMPDIR:-/tmp}/new-design-XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '\n== test:new-design: %s (%ss) ==\n' "$1" "$SECONDS"; }

step "copy of the working tree in $work"
git ls-files -z --cached --others --exclude-standard \
  | tar --null --files-from=- --ignore-failed-read -cf - \
  | tar -xf - -C "$work"
for shared in node_modules .venv .venv-sagemaker-training .venv-sagemaker-inference .venv-sagemaker-uv .cache; do
  if [ -e "$ROOT/$shared" ]; then ln -s "$ROOT/$shared" "$work/$shared"; fi
done
cd "$work"

step "fork $RANKING (cached-ranking) and $SCORING (realtime-scoring)"
npm run --silent new-design -- "$RANKING" --pattern cached-ranking
npm run --silent new-design -- "$SCORING" --pattern realtime-scoring
new_files=()
for id in "$RANKING" "$SCORING"; do
  pkg="${id//-/_}"
  for folder in "lib/designs/$id" "lambda/$id" "sql/$id" "scripts/$id" "bench/$id" "test/designs/$id" \
    "sagemaker/$pkg" "sagemaker/tests/$pkg"; do
    if [ -d "$folder" ]; then new_files+=("$folder"); fi
  done
done

step "type check, lint and format"
npx tsc --noEmit
# The whole tree, as npm run lint does: eslint refuses a folder it ignores (sql/) by name.
npx eslint .
npx prettier --check "${new_files[@]}" lib/designs/index.ts package.json

step "design pages and cost estimates of the forks"
npm run --silent docs
for id in "$RANKING" "$SCORING"; do
  # Exit 3 when a resource type has no cost model.
  npm run --silent cost -- -c design="$id" -c profile=sandbox
done

step "jest: the forks' tests, their design pages and the app-wide suites for them"
# --ci=false: a new design's first snapshots are written, not refused. README.md's cost tables are
# the registered designs' (a fork adds its own with npm run cost -- --markdown), so that comparison
# is left out here; the estimate itself ran above.
npx jest --ci=false "test/designs/$RANKING" "test/designs/$SCORING" test/platform/design-vocabulary.test.ts \
  test/scripts/docs
npx jest --ci=false test/app -t "$RANKING|$SCORING" --testPathIgnorePatterns test/app/cost-estimate.test.ts

step "model tests"
sagemaker/bin/py -m pytest -q "sagemaker/tests/${RANKING//-/_}" "sagemaker/tests/${SCORING//-/_}"

for id in "$RANKING" "$SCORING"; do
  for profile in sandbox production; do
    step "synth + cfn-lint: $id $profile"
    rm -rf cdk.out
    npx cdk synth --quiet -c design="$id" -c profile="$profile"
    cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json
  done
  step "e2e:local: $id"
  npm run --silent e2e:local -- --design "$id" --quiet
done

step "done"
