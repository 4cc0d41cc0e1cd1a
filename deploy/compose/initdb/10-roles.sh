#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: the login role `loyalty serve`
# uses, a member of loyalty_service only (the migrations create that role if missing and grant
# it append-only rights on the log).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_password="$LOYALTY_APP_PASSWORD" <<'SQL'
CREATE ROLE loyalty_service NOLOGIN;
CREATE ROLE loyalty_app LOGIN PASSWORD :'app_password' IN ROLE loyalty_service;
SQL
