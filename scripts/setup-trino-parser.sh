#!/usr/bin/env bash
# Fetch the pinned Trino SQL parser (Athena engine v3 is Trino-based) and the
# runtime jars it needs into .cache/trino-parser/ under the repo root.
# Network is needed only here; scripts/sql-parse/TrinoParse.java runs offline.
#
# Version choice: trino-parser 435 is the last release compiled for Java 17
# (class file major 61); 436+ are major 65 (Java 21) and later need newer JDKs.
#
# Runtime classpath = exactly these 4 jars (resolved from the POMs of
# trino-parser 435 / trino-root 435 / airbase 148 / guava 32.1.3-jre):
#   trino-parser 435 -> trino-grammar 435, guava 32.1.3-jre, antlr4-runtime 4.13.1
# Deliberately omitted (jdeps: only annotation references or unused packages,
# which the JVM ignores when absent): jakarta.annotation-api, error_prone_annotations,
# jsr305, checker-qual, j2objc-annotations, and guava's failureaccess (only used by
# com.google.common.util.concurrent, which the parser never touches).
#
# Usage afterwards (from the repo root, Java 17+):
#   java -cp '.cache/trino-parser/*' scripts/sql-parse/TrinoParse.java file1.sql file2.sql ...
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO_ROOT/.cache/trino-parser"
MAVEN_BASE="${MAVEN_BASE:-https://repo1.maven.org/maven2}"

# path-under-maven-repo  sha256
JARS=(
  "io/trino/trino-parser/435/trino-parser-435.jar bc705edea09b31f103193d44bce56db2a18d376d173655198bde389d9c7289db"
  "io/trino/trino-grammar/435/trino-grammar-435.jar 3abe188ab9d2f5920a8437e4ae16d923c1f2b4798200faec183c3688ddd41d1f"
  "com/google/guava/guava/32.1.3-jre/guava-32.1.3-jre.jar 6d4e2b5a118aab62e6e5e29d185a0224eed82c85c40ac3d33cf04a270c3b3744"
  "org/antlr/antlr4-runtime/4.13.1/antlr4-runtime-4.13.1.jar 54665d2838cc66458343468efc539e454fc95b46a8a04b13c6ac43fc9be63505"
)

# Java 17+ is required (class files are major 61). Prefer $JAVA_HOME, else PATH.
JAVA_BIN="${JAVA_HOME:+$JAVA_HOME/bin/}java"
java_major="$("$JAVA_BIN" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
if [[ -z "$java_major" || "${java_major%%.*}" -lt 17 ]]; then
  echo "error: Java 17+ required for trino-parser 435 (found '${java_major:-none}' at $JAVA_BIN)" >&2
  exit 1
fi

mkdir -p "$DEST"

sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]; }

for entry in "${JARS[@]}"; do
  path="${entry% *}"
  sha="${entry#* }"
  file="$DEST/$(basename "$path")"
  if sha_ok "$file" "$sha"; then
    echo "ok (cached)  $(basename "$file")"
    continue
  fi
  echo "downloading  $(basename "$file")"
  tmp="$(mktemp "$file.XXXXXX")"
  trap 'rm -f "$tmp"' EXIT
  curl -fsSL --retry 3 --proto '=https' -o "$tmp" "$MAVEN_BASE/$path"
  if ! sha_ok "$tmp" "$sha"; then
    echo "error: sha256 mismatch for $path (got $(sha256sum "$tmp" | cut -d' ' -f1), want $sha)" >&2
    rm -f "$tmp"
    exit 1
  fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$file"
  trap - EXIT
done

shopt -s nullglob
# Drop any stray jars (e.g. from an older pin) so the '*' classpath stays exact.
for f in "$DEST"/*.jar; do
  keep=0
  for entry in "${JARS[@]}"; do
    p="${entry% *}"
    [[ "$(basename "$f")" == "$(basename "$p")" ]] && keep=1
  done
  if [[ $keep -eq 0 ]]; then
    echo "removing stale $(basename "$f")"
    rm -f "$f"
  fi
done

echo "trino-parser ready in $DEST (java: $JAVA_BIN, spec $java_major)"
echo "run: $JAVA_BIN -cp '$DEST/*' $REPO_ROOT/scripts/sql-parse/TrinoParse.java FILE.sql..."
