#!/bin/sh
# Stops the cluster start.sh started (--keep keeps its folder and logs).
set -eu
cd "$(dirname "$0")/../.."
exec node_modules/.bin/tsx scripts/cluster/cluster.ts stop "$@"
