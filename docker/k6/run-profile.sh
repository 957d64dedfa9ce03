#!/bin/sh
# Runs one bundled profile (dist/$VOICE_PROFILE.js) with the InfluxDB v2 output and a
# run tag. Everything here is what `npm run engine -- run ...` or a local k6 takes too.
set -eu
profile="${VOICE_PROFILE:-smoke}"
testid="${VOICE_TESTID:-compose-$(date -u +%Y%m%dT%H%M%SZ)}"
script="/home/k6/dist/${profile}.js"
if [ ! -f "$script" ]; then
  echo "run-profile: no bundled profile ${profile} (${script}); choose one of: $(ls /home/k6/dist | grep '\.js$' | sed 's/\.js$//' | tr '\n' ' ')" >&2
  exit 2
fi
echo "run-profile: ${profile} with testid=${testid} -> ${K6_INFLUXDB_ADDR:-http://influxdb:8086} bucket ${K6_INFLUXDB_BUCKET:-?}"
exec k6 run --no-usage-report -o "xk6-influxdb=${K6_INFLUXDB_ADDR:-http://influxdb:8086}" --tag "testid=${testid}" "$@" "$script"
