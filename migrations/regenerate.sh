#!/usr/bin/env bash
# Rebuild the initial migration from the models (before the first release only):
# autogenerate against an empty SQLite database. tests/test_migrations.py checks
# that the result matches the models on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/0001_initial.py
DATABASE_URL="sqlite:///$tmp/empty.sqlite3" .venv/bin/flask --app wsgi db revision \
  --autogenerate --rev-id 0001 -m "initial schema" >/dev/null 2>&1
mv migrations/versions/0001_initial_schema.py migrations/versions/0001_initial.py
echo "migrations/versions/0001_initial.py regenerated"
