#!/bin/sh
# Starts a local cluster: PostgreSQL primary + synchronous standby, two api and
# two projections processes; prints the urls. See scripts/cluster/cluster.ts.
set -eu
cd "$(dirname "$0")/../.."
exec node_modules/.bin/tsx scripts/cluster/cluster.ts start "$@"
