#!/bin/bash
# Runs once, after the influxdb image's setup mode created the org, bucket and admin token
# (DOCKER_INFLUXDB_INIT_*). It maps the InfluxQL database "$INFLUXDB_V1_DB" (default k6) to
# the bucket, so InfluxQL clients (Grafana's InfluxQL datasource, k6's built-in
# `-o influxdb=` v1 output through the /write compatibility endpoint) find the data.
set -euo pipefail
db="${INFLUXDB_V1_DB:-k6}"
bucket_id="${DOCKER_INFLUXDB_INIT_BUCKET_ID:-}"
if [ -z "$bucket_id" ]; then
  bucket_id="$(influx bucket list --org "$DOCKER_INFLUXDB_INIT_ORG" --name "$DOCKER_INFLUXDB_INIT_BUCKET" --hide-headers | cut -f1)"
fi
influx v1 dbrp create --org "$DOCKER_INFLUXDB_INIT_ORG" --db "$db" --rp autogen --bucket-id "$bucket_id" --default
echo "dbrp: InfluxQL database ${db} (rp autogen) -> bucket ${DOCKER_INFLUXDB_INIT_BUCKET} (${bucket_id})"
