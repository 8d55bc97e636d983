#!/usr/bin/env bash
# Copies the botocore service models that the SDK-call tests validate against into
# test/aws-api-models/<service>/<api-version>/service-2.json.gz.
#
#   scripts/update-api-models.sh                 # refresh every pinned service at the pinned version
#   scripts/update-api-models.sh rds-data sqs    # ... and add these services (botocore names)
#
# The botocore version is pinned in test/aws-api-models/VERSION: edit it, run this script, run
# `npx jest test/aws-api-model` and the tests of every file that mocks an SDK client, and commit the
# models with the version. BOTOCORE_WHEEL=/path/to/botocore-X-py3-none-any.whl uses a wheel
# already on disk instead of downloading it from PyPI.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
models="$root/test/aws-api-models"
version="$(tr -d '[:space:]' <"$models/VERSION")"
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "test/aws-api-models/VERSION must hold a botocore version such as 1.44.8, not '$version'" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

wheel="${BOTOCORE_WHEEL:-}"
if [[ -z "$wheel" ]]; then
  # The wheel only: no dependencies, no install, no source build.
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "botocore==$version"
  wheel="$(ls "$work"/botocore-"$version"-*.whl)"
fi
case "$(basename "$wheel")" in
  botocore-"$version"-*.whl) ;;
  *) echo "$wheel is not the botocore $version wheel" >&2; exit 2 ;;
esac

# The pinned services are the folders already here, plus any named on the command line.
mapfile -t services < <(
  { find "$models" -mindepth 1 -maxdepth 1 -type d -printf '%f\n'; (($# == 0)) || printf '%s\n' "$@"; } | sort -u
)

python3 - "$wheel" "$models" "${services[@]}" <<'PY'
import sys, zipfile, pathlib, shutil

wheel, models, services = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    latest = {}
    for service in services:
        prefix = f"botocore/data/{service}/"
        # API versions are dates; botocore itself loads the latest one that has a service model.
        versions = sorted(
            n[len(prefix):].split("/")[0]
            for n in names
            if n.startswith(prefix) and n.endswith("/service-2.json.gz")
        )
        if not versions:
            sys.exit(f"botocore has no model for '{service}' (use the botocore name, e.g. stepfunctions, logs)")
        latest[service] = versions[-1]
    # Every name is checked before anything is written, so a typo leaves the folder as it was.
    for service, version in latest.items():
        target = models / service
        if target.exists():
            shutil.rmtree(target)
        (target / version).mkdir(parents=True)
        (target / version / "service-2.json.gz").write_bytes(
            z.read(f"botocore/data/{service}/{version}/service-2.json.gz")
        )
        print(f"{service} {version}")
PY
echo "botocore $version models are in test/aws-api-models"
