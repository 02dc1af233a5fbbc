#!/usr/bin/env bash
# Backups of the giftcash database, their restore, and a drill that proves both.
#
#   deploy/backup.sh backup FILE          write a backup of the live database to FILE
#   deploy/backup.sh restore FILE URL     restore FILE into the empty database at URL
#   deploy/backup.sh verify URL_A URL_B   same rows in every table, same ledger and audit
#                                         chain heads, and both pass their own checks
#   deploy/backup.sh drill [DIR]          backup, restore into a scratch database, verify,
#                                         drop the scratch database; exit 0 only if all held
#
# The database is GIFTCASH_DATABASE_URL (SQLAlchemy form, postgresql+psycopg://...), else
# the SQLite file in GIFTCASH_DATA_DIR (default ./var). PostgreSQL: pg_dump's custom format,
# taken in one snapshot while the service runs (a consistent backup without stopping
# anything); a search_path in the URL's options limits it to that schema. SQLite: the
# online backup API (also consistent while the service writes).
#
# The master keys are NOT in the database: back up GIFTCASH_SECRET_KEY /
# GIFTCASH_DECRYPT_KEYS or DATA_DIR/secret.key separately (a secret store); a database
# restored without them cannot decrypt a single code. See docs/deploy.md.
set -euo pipefail

PY=${GIFTCASH_PYTHON:-python3}
GIFTCASH=${GIFTCASH:-giftcash}

die() { echo "backup.sh: $*" >&2; exit 2; }

# A backup is written beside its name, synced, renamed into place and the folder synced:
# a power cut leaves the old backup or the whole new one, never a torn file under the name
# (coreutils' sync FILE is fsync(2) on that file or folder).
publish() {
  local tmp=$1 out=$2
  chmod 600 "$tmp"
  sync "$tmp"
  mv -f "$tmp" "$out"
  sync "$(dirname "$out")"
}

database_url() {
  if [ -n "${GIFTCASH_DATABASE_URL:-}" ]; then
    echo "$GIFTCASH_DATABASE_URL"
  else
    echo "sqlite:///${GIFTCASH_DATA_DIR:-./var}/giftcash.db"
  fi
}

# libpq's URL (no +driver, no options) and the schema named by search_path, if any.
pg_parts() {
  "$PY" - "$1" <<'EOF'
import sys
from sqlalchemy.engine import make_url
url = make_url(sys.argv[1])
options = (url.query.get("options") or "")
options = options if isinstance(options, str) else " ".join(options)
schema = ""
for part in options.split():
    if part.startswith("-csearch_path="):
        schema = part.split("=", 1)[1]
libpq = url.set(drivername="postgresql").difference_update_query(["options"])
print(libpq.render_as_string(hide_password=False))
print(schema)
EOF
}

kind_of() {
  case "$1" in
    sqlite*) echo sqlite ;;
    postgresql*) echo postgres ;;
    *) die "unsupported database URL (sqlite:/// or postgresql+psycopg://)" ;;
  esac
}

sqlite_path() { echo "${1#sqlite:///}"; }

backup() {
  local out=$1 url kind
  url=$(database_url)
  kind=$(kind_of "$url")
  local tmp
  tmp="$(dirname "$out")/.$(basename "$out").$$.tmp"
  rm -f "$tmp"
  if [ "$kind" = sqlite ]; then
    "$PY" - "$(sqlite_path "$url")" "$tmp" <<'EOF'
import sqlite3, sys
src = sqlite3.connect(sys.argv[1])
dst = sqlite3.connect(sys.argv[2])
with dst:
    src.backup(dst)  # a consistent copy while writers go on
dst.close(); src.close()
EOF
  else
    local parts libpq schema
    mapfile -t parts < <(pg_parts "$url")
    libpq=${parts[0]}; schema=${parts[1]:-}
    pg_dump --format=custom --no-owner --no-privileges ${schema:+--schema="$schema"} \
      --file="$tmp" "$libpq"
  fi
  publish "$tmp" "$out"
  echo "backup written to $out"
}

restore() {
  local in=$1 url=$2 kind
  kind=$(kind_of "$url")
  [ -s "$in" ] || die "no backup at $in"
  if [ "$kind" = sqlite ]; then
    local path
    path=$(sqlite_path "$url")
    [ ! -s "$path" ] || die "$path exists: restore into a new file"
    mkdir -p "$(dirname "$path")"
    cp "$in" "$path.restoring"
    publish "$path.restoring" "$path"
  else
    local parts libpq
    mapfile -t parts < <(pg_parts "$url")
    libpq=${parts[0]}
    pg_restore --no-owner --no-privileges --exit-on-error --dbname="$libpq" "$in"
  fi
  echo "restored $in into $(kind_of "$url") database"
}

verify() {
  local a=$1 b=$2
  "$PY" - "$a" "$b" <<'EOF'
import sys
from sqlalchemy import func, inspect, select, table, text
from giftcash.adapters.db.engine import make_engine

def facts(url):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            counts = {n: conn.execute(select(func.count()).select_from(table(n))).scalar()
                      for n in names}
            heads = (
                tuple(conn.execute(text("SELECT seq, hash FROM ledger_head")).one()),
                tuple(conn.execute(text("SELECT seq, hash FROM audit_head")).one()),
            )
            return counts, heads
    finally:
        engine.dispose()

(ca, ha), (cb, hb) = facts(sys.argv[1]), facts(sys.argv[2])
bad = [f"{n}: {ca.get(n)} != {cb.get(n)}" for n in sorted(set(ca) | set(cb)) if ca.get(n) != cb.get(n)]
if ha != hb:
    bad.append(f"chain heads differ: {ha} != {hb}")
for line in bad:
    print("differs:", line, file=sys.stderr)
print(f"{len(ca)} tables, {sum(ca.values())} rows compared; ledger head {ha[0][0]}, audit head {ha[1][0]}")
sys.exit(1 if bad else 0)
EOF
  "$GIFTCASH" ledger check --database-url "$b"
  "$GIFTCASH" audit verify --database-url "$b"
}

drill() {
  local dir=${1:-} url kind scratch file
  url=$(database_url)
  kind=$(kind_of "$url")
  if [ -z "$dir" ]; then dir=$(mktemp -d); fi
  mkdir -p "$dir"
  file="$dir/giftcash-backup.$([ "$kind" = sqlite ] && echo db || echo dump)"
  backup "$file"
  if [ "$kind" = sqlite ]; then
    scratch="sqlite:///$dir/restored/giftcash.db"
    restore "$file" "$scratch"
  else
    local parts libpq schema name
    mapfile -t parts < <(pg_parts "$url")
    libpq=${parts[0]}; schema=${parts[1]:-}
    name="giftcash_restore_drill_$(date +%s)_$$"
    psql --quiet --no-psqlrc --dbname="$libpq" -c "CREATE DATABASE \"$name\"" >/dev/null
    DRILL_LIBPQ=$libpq DRILL_DB=$name  # globals: the trap runs after this function returns
    trap 'psql --quiet --no-psqlrc --dbname="$DRILL_LIBPQ" \
      -c "DROP DATABASE IF EXISTS \"$DRILL_DB\" WITH (FORCE)" >/dev/null' EXIT
    scratch=$("$PY" - "$url" "$name" <<'EOF'
import sys
from sqlalchemy.engine import make_url
print(make_url(sys.argv[1]).set(database=sys.argv[2]).render_as_string(hide_password=False))
EOF
)
    restore "$file" "$scratch"
  fi
  verify "$url" "$scratch"
  echo "restore drill passed: $file restores to an identical database"
}

case "${1:-}" in
  backup) [ $# -eq 2 ] || die "usage: backup FILE"; backup "$2" ;;
  restore) [ $# -eq 3 ] || die "usage: restore FILE URL"; restore "$2" "$3" ;;
  verify) [ $# -eq 3 ] || die "usage: verify URL_A URL_B"; verify "$2" "$3" ;;
  drill) drill "${2:-}" ;;
  *) die "usage: backup FILE | restore FILE URL | verify URL_A URL_B | drill [DIR]" ;;
esac
