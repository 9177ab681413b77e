#!/bin/sh
# Apply migrations, then hand over to the server (exec: it receives the signals).
set -e
scms migrate
exec "$@"
