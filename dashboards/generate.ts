// Generates dashboards/voice-sessions.json (Grafana dashboard JSON, InfluxQL over the schema
// k6's InfluxDB outputs write: one measurement per metric, field "value", tags).
// Run: npx tsx dashboards/generate.ts   (test/dashboards checks the committed JSON is current)
//
// The datasource uid is fixed and provisioned (docker/grafana/provisioning/datasources).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DATASOURCE_UID = 'voice-influxdb';
export const DASHBOARD_UID = 'voice-sessions';

const DS = { type: 'influxdb', uid: '${datasource}' } as const;

/** Filters every voice_* query shares (the run, the scenario, the traffic class). */
const VOICE = `"testid" =~ /^$testid$/ AND "scenario" =~ /^$scenario$/ AND "auth_case" =~ /^$auth_case$/ AND $timeFilter`;
/** k6's own ws_* and iteration metrics: the run and the scenario. */
const K6 = `"testid" =~ /^$testid$/ AND "scenario" =~ /^$scenario$/ AND $timeFilter`;
/** Gauges k6 writes without a scenario tag (vus, vus_max). */
const RUN = `"testid" =~ /^$testid$/ AND $timeFilter`;

export interface Target {
  refId: string;
  query: string;
  alias?: string;
  resultFormat?: 'time_series' | 'table';
}

type Json = Record<string, unknown>;

let nextId = 1;
const panels: Json[] = [];
let y = 0;

function target(t: Target): Json {
  return {
    refId: t.refId,
    datasource: DS,
    rawQuery: true,
    query: t.query,
    resultFormat: t.resultFormat ?? 'time_series',
    ...(t.alias ? { alias: t.alias } : {}),
  };
}

function row(title: string): void {
  panels.push({ id: nextId++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
  y += 1;
}

interface Steps {
  base: string;
  steps?: Array<[number, string]>;
}

function thresholds({ base, steps = [] }: Steps): Json {
  return { mode: 'absolute', steps: [{ color: base, value: null }, ...steps.map(([value, color]) => ({ color, value }))] };
}

function stat(o: {
  title: string;
  description: string;
  targets: Target[];
  unit: string;
  steps: Steps;
  w: number;
  x: number;
}): void {
  panels.push({
    id: nextId++,
    type: 'stat',
    title: o.title,
    description: o.description,
    datasource: DS,
    gridPos: { h: 4, w: o.w, x: o.x, y },
    targets: o.targets.map(target),
    fieldConfig: {
      defaults: {
        unit: o.unit,
        decimals: 0,
        noValue: '0',
        color: { mode: 'thresholds' },
        thresholds: thresholds(o.steps),
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'value',
      justifyMode: 'center',
      orientation: 'auto',
    },
  });
}

function timeseries(o: {
  title: string;
  description: string;
  targets: Target[];
  unit: string;
  steps: Steps;
  w: number;
  x: number;
  h?: number;
  bars?: boolean;
  min?: number;
  max?: number;
  transformations?: Json[];
}): void {
  panels.push({
    id: nextId++,
    type: 'timeseries',
    title: o.title,
    description: o.description,
    datasource: DS,
    gridPos: { h: o.h ?? 8, w: o.w, x: o.x, y },
    targets: o.targets.map(target),
    ...(o.transformations ? { transformations: o.transformations } : {}),
    fieldConfig: {
      defaults: {
        unit: o.unit,
        ...(o.min !== undefined ? { min: o.min } : {}),
        ...(o.max !== undefined ? { max: o.max } : {}),
        color: { mode: 'palette-classic' },
        thresholds: thresholds(o.steps),
        custom: {
          drawStyle: o.bars ? 'bars' : 'line',
          lineWidth: 1,
          fillOpacity: o.bars ? 80 : 10,
          spanNulls: false,
          showPoints: 'auto',
          thresholdsStyle: { mode: 'dashed' },
        },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  });
}

function table(o: { title: string; description: string; targets: Target[]; unit: string; steps: Steps; w: number; x: number; h?: number }): void {
  panels.push({
    id: nextId++,
    type: 'table',
    title: o.title,
    description: o.description,
    datasource: DS,
    gridPos: { h: o.h ?? 8, w: o.w, x: o.x, y },
    targets: o.targets.map((t) => target({ ...t, resultFormat: 'table' })),
    fieldConfig: {
      defaults: {
        unit: o.unit,
        color: { mode: 'thresholds' },
        thresholds: thresholds(o.steps),
        custom: { align: 'auto', cellOptions: { type: 'auto' } },
      },
      overrides: [],
    },
    options: { showHeader: true, footer: { show: false } },
  });
}

const pcts = (measurement: string, filter: string, groupBy: string): Target[] =>
  ([50, 95, 99] as const).map((p, i) => ({
    refId: String.fromCharCode(65 + i),
    query: `SELECT percentile("value", ${p}) FROM "${measurement}" WHERE ${filter} GROUP BY time($__interval)${groupBy ? `, ${groupBy}` : ''} fill(none)`,
    alias: `p${p}${groupBy ? ` $tag_${groupBy.replace(/"/g, '')}` : ''}`,
  }));

// ---------------------------------------------------------------- Verdict
/** A verdict-row stat: the run's sum of one voice counter, green at 0 and `color` from 1. */
function verdictStat(title: string, description: string, measurement: string, x: number, color = 'red'): void {
  stat({
    title,
    description,
    targets: [{ refId: 'A', query: `SELECT sum("value") FROM "${measurement}" WHERE ${VOICE}` }],
    unit: 'none',
    steps: { base: 'green', steps: [[1, color]] },
    w: 4,
    x,
  });
}
row('Verdict: anything non-zero here is a failed run');
verdictStat(
  'Auth bypasses',
  'Attempts of the no_token or invalid classes that the server ACCEPTED (sum of voice_auth_bypass). Must be 0: anything else means a request without a valid token got a session. Red when non-zero.',
  'voice_auth_bypass',
  0,
);
verdictStat(
  'Attribution errors',
  'Verified valid sessions attributed to anyone but the token\'s oid (number of 1s in the voice_attribution_errors rate). Must be 0: a non-zero value means sessions, transcripts or memory went to the wrong user (or the POC fallback user). Red when non-zero.',
  'voice_attribution_errors',
  4,
);
stat({
  title: 'False rejections (valid tokens)',
  description:
    'Attempts with a VALID token that the server rejected (voice_rejected = 1 with auth_case=valid). Ignores the traffic-class selector on purpose. Must be 0 unless the test deliberately overloads the server. Red when non-zero.',
  targets: [
    {
      refId: 'A',
      query: `SELECT sum("value") FROM "voice_rejected" WHERE "testid" =~ /^$testid$/ AND "scenario" =~ /^$scenario$/ AND "auth_case" = 'valid' AND $timeFilter`,
    },
  ],
  unit: 'none',
  steps: { base: 'green', steps: [[1, 'red']] },
  w: 4,
  x: 8,
});
verdictStat(
  'Rejection mismatches',
  'Attempts that were rejected, but with the wrong close code, HTTP status or reason for their traffic class (sum of voice_rejection_mismatch): e.g. an expired token refused with "Authentication required". Red when non-zero.',
  'voice_rejection_mismatch',
  12,
);
verdictStat(
  'Unverified attributions',
  'Valid sessions whose attribution could not be checked (no session.created event, no user id): sum of voice_attribution_unverified. Not a failure by itself, but a large number means the attribution verdict rests on few sessions. Orange when non-zero.',
  'voice_attribution_unverified',
  16, 'orange',
);
stat({
  title: 'Attempts',
  description:
    'Connection attempts in the selected run, scenario and classes (number of voice_rejected samples: one per attempt, 0 or 1). The denominator for everything in this row.',
  targets: [{ refId: 'A', query: `SELECT count("value") FROM "voice_rejected" WHERE ${VOICE}` }],
  unit: 'none',
  steps: { base: 'blue' },
  w: 4,
  x: 20,
});
y += 4;

// ---------------------------------------------------------------- Handshakes
row('Handshakes');
timeseries({
  title: 'Handshake latency by traffic class (p50 / p95 / p99)',
  description:
    'Time from the start of an attempt to the socket opening or to the rejection being observed (voice_handshake_duration), per auth_case. Rejections are usually faster than accepts; a rising valid p95 under steady load means the server\'s token verification or accept path is saturating. Dashed line: 1 s.',
  targets: pcts('voice_handshake_duration', VOICE, '"auth_case"'),
  unit: 'ms',
  steps: { base: 'green', steps: [[1000, 'red']] },
  w: 12,
  x: 0,
});
timeseries({
  title: 'Handshake latency by outcome (p50 / p95 / p99)',
  description:
    'The same handshake latency split by what the attempt ended as (accepted, rejected_close, rejected_http, error). Errors that take as long as the timeout show up here first. Dashed line: 1 s.',
  targets: pcts('voice_handshake_duration', VOICE, '"outcome"'),
  unit: 'ms',
  steps: { base: 'green', steps: [[1000, 'red']] },
  w: 12,
  x: 12,
});
y += 8;
timeseries({
  title: 'Attempts per second by outcome',
  description:
    'Connection attempts per second (count of voice_rejected samples per interval, divided by the interval), split by outcome. accepted should follow the valid share of the load profile; any "error" series means refused connections, timeouts, 5xx or unexpected close codes. Dashed line: 0 (anything above it in "error" deserves a look).',
  targets: [
    {
      refId: 'A',
      query: `SELECT count("value") * 1000 / $__interval_ms FROM "voice_rejected" WHERE ${VOICE} GROUP BY time($__interval), "outcome" fill(0)`,
      alias: '$tag_outcome',
    },
  ],
  unit: 'ops',
  steps: { base: 'green', steps: [[0, 'transparent']] },
  w: 12,
  x: 0,
  min: 0,
});
timeseries({
  title: 'Rejection rate by class and variant',
  description:
    'Share of attempts rejected per interval (mean of voice_rejected), per auth_case and variant. Expected: 100 % for every no_token and invalid variant, 0 % for valid. A bad-token variant below the 100 % line is being let in (see Auth bypasses); valid above 0 % is false rejection.',
  targets: [
    {
      refId: 'A',
      query: `SELECT mean("value") FROM "voice_rejected" WHERE ${VOICE} GROUP BY time($__interval), "auth_case", "variant" fill(none)`,
      alias: '$tag_auth_case / $tag_variant',
    },
  ],
  unit: 'percentunit',
  steps: { base: 'green', steps: [[1, 'green']] },
  w: 12,
  x: 12,
  min: 0,
  max: 1,
});
y += 8;
table({
  title: 'Rejections per class and variant (whole range)',
  description:
    'Totals over the selected time range: attempts, rejected attempts and the rejection rate for every auth_case / variant. The quickest place to see which bad-token kind gets through. Rate cell thresholds: red below 100 % matters for bad classes, above 0 % for valid.',
  targets: [
    {
      refId: 'A',
      query: `SELECT count("value") AS "attempts", sum("value") AS "rejected", mean("value") AS "rejection_rate" FROM "voice_rejected" WHERE ${VOICE} GROUP BY "auth_case", "variant"`,
    },
  ],
  unit: 'none',
  steps: { base: 'blue' },
  w: 12,
  x: 0,
});
timeseries({
  title: 'k6 ws_connecting beside voice_handshake_duration (p95)',
  description:
    'k6\'s own ws_connecting (time to establish the WebSocket, measured by the k6 runtime) next to our voice_handshake_duration (measured by the scenario, including the time to observe a rejection). They should track each other; a gap that grows means time spent in the script or in observing close frames. Dashed line: 1 s.',
  targets: [
    {
      refId: 'A',
      query: `SELECT percentile("value", 95) FROM "ws_connecting" WHERE ${K6} GROUP BY time($__interval) fill(none)`,
      alias: 'ws_connecting p95 (k6)',
    },
    {
      refId: 'B',
      query: `SELECT percentile("value", 95) FROM "voice_handshake_duration" WHERE ${K6} GROUP BY time($__interval) fill(none)`,
      alias: 'voice_handshake_duration p95',
    },
  ],
  unit: 'ms',
  steps: { base: 'green', steps: [[1000, 'red']] },
  w: 12,
  x: 12,
});
y += 8;

// ---------------------------------------------------------------- Sessions
row('Sessions');
timeseries({
  title: 'Open sessions',
  description:
    'Sessions open at each moment: cumulative voice_sessions_opened minus cumulative voice_sessions_closed, counted from the start of the selected time range (so select a range that starts before the run). Should follow the VU curve; sessions that stay open after the run ended are leaks. Dashed line: 0.',
  targets: [
    {
      refId: 'A',
      query: `SELECT cumulative_sum(sum("value")) FROM "voice_sessions_opened" WHERE ${VOICE} GROUP BY time($__interval) fill(0)`,
      alias: 'opened',
    },
    {
      refId: 'B',
      query: `SELECT cumulative_sum(sum("value")) FROM "voice_sessions_closed" WHERE ${VOICE} GROUP BY time($__interval) fill(0)`,
      alias: 'closed',
    },
  ],
  transformations: [
    // One frame with Time, opened, closed; then open = opened - closed.
    { id: 'joinByField', options: { byField: 'Time', mode: 'outer' } },
    {
      id: 'calculateField',
      options: { mode: 'binary', binary: { left: 'opened', operator: '-', right: 'closed' }, alias: 'open sessions', replaceFields: false },
    },
  ],
  unit: 'none',
  steps: { base: 'green', steps: [[0, 'transparent']] },
  w: 12,
  x: 0,
  min: 0,
});
timeseries({
  title: 'Unexpected closes by close code',
  description:
    'Accepted sessions the server closed before the client meant to end them (voice_unexpected_close), per close_code and interval. 1011 = server error, 1013 = try again later (capacity), 1008 = policy (e.g. token expired mid-session), 1006 = connection dropped without a close frame. Dashed line: 0.',
  targets: [
    {
      refId: 'A',
      query: `SELECT sum("value") FROM "voice_unexpected_close" WHERE ${VOICE} GROUP BY time($__interval), "close_code" fill(none)`,
      alias: 'close $tag_close_code',
    },
  ],
  unit: 'none',
  steps: { base: 'green', steps: [[1, 'red']] },
  w: 12,
  x: 12,
  bars: true,
  min: 0,
});
y += 8;
timeseries({
  title: 'First-event latency (p50 / p95 / p99)',
  description:
    'Time from the socket opening to the first server message (voice_first_event_duration; the session.created event). Measures how fast the backend builds the session after authentication. Dashed line: 500 ms.',
  targets: pcts('voice_first_event_duration', VOICE, ''),
  unit: 'ms',
  steps: { base: 'green', steps: [[500, 'red']] },
  w: 12,
  x: 0,
});
timeseries({
  title: 'Agent-response latency (p50 / p95 / p99)',
  description:
    'Time from sending the agent selection ({"type":"agent"}) to the server\'s answer (voice_agent_response_duration). The first application-level round trip of a session. Dashed line: 1 s.',
  targets: pcts('voice_agent_response_duration', VOICE, ''),
  unit: 'ms',
  steps: { base: 'green', steps: [[1000, 'red']] },
  w: 12,
  x: 12,
});
y += 8;
timeseries({
  title: 'WebSocket messages per second (audio frames and events)',
  description:
    'k6\'s ws_msgs_sent (audio frames plus control messages written by the clients) and ws_msgs_received (server events) per second. Sent should be flat under a steady profile; received dropping while sent holds means the server stopped answering. Dashed line: 0.',
  targets: [
    {
      refId: 'A',
      query: `SELECT sum("value") * 1000 / $__interval_ms FROM "ws_msgs_sent" WHERE ${K6} GROUP BY time($__interval) fill(0)`,
      alias: 'sent/s',
    },
    {
      refId: 'B',
      query: `SELECT sum("value") * 1000 / $__interval_ms FROM "ws_msgs_received" WHERE ${K6} GROUP BY time($__interval) fill(0)`,
      alias: 'received/s',
    },
  ],
  unit: 'ops',
  steps: { base: 'green', steps: [[0, 'transparent']] },
  w: 12,
  x: 0,
  min: 0,
});
timeseries({
  title: 'VUs and dropped iterations',
  description:
    'Active virtual users (k6 vus gauge, max per interval) and iterations k6 could not start in time (dropped_iterations per interval, arrival-rate executors only). Dropped iterations above 0 mean the load generator, not the server, is the bottleneck: add VUs or instances. Dashed line: 1 dropped iteration.',
  targets: [
    { refId: 'A', query: `SELECT max("value") FROM "vus" WHERE ${RUN} GROUP BY time($__interval) fill(none)`, alias: 'VUs' },
    {
      refId: 'B',
      query: `SELECT sum("value") FROM "dropped_iterations" WHERE ${K6} GROUP BY time($__interval) fill(none)`,
      alias: 'dropped iterations',
    },
  ],
  unit: 'none',
  steps: { base: 'green', steps: [[1, 'red']] },
  w: 12,
  x: 12,
  min: 0,
});
y += 8;

// ---------------------------------------------------------------- Run comparison
row('Run comparison');
table({
  title: 'Runs in range: handshakes per run',
  description:
    'One line per selected run (testid): attempts, rejected attempts and handshake latency percentiles over the whole time range. Select several runs in the "run" variable (and a range covering them) to compare this run with the last one.',
  targets: [
    {
      refId: 'A',
      query: `SELECT count("value") AS "attempts", percentile("value", 50) AS "p50", percentile("value", 95) AS "p95", percentile("value", 99) AS "p99" FROM "voice_handshake_duration" WHERE ${VOICE} GROUP BY "testid"`,
    },
    {
      refId: 'B',
      query: `SELECT sum("value") AS "rejected", count("value") AS "attempts" FROM "voice_rejected" WHERE ${VOICE} GROUP BY "testid"`,
    },
  ],
  unit: 'none',
  steps: { base: 'blue' },
  w: 24,
  x: 0,
});
y += 8;

function queryVariable(name: string, label: string, query: string, description: string): Json {
  return {
    name,
    label,
    description,
    type: 'query',
    datasource: DS,
    query,
    definition: query,
    refresh: 2,
    multi: true,
    includeAll: true,
    sort: 1,
    current: {},
    options: [],
    hide: 0,
  };
}

export function buildDashboard(): Json {
  return {
    uid: DASHBOARD_UID,
    title: 'Voice sessions',
    description:
      'Authenticated voice WebSocket load tests: handshakes per traffic class, auth verdicts (bypasses, attribution), sessions and k6 load. Data: k6 InfluxDB output (v1 schema), queried with InfluxQL.',
    tags: ['k6', 'voice', 'websocket', 'auth'],
    editable: true,
    graphTooltip: 1,
    refresh: '5s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-15m', to: 'now' },
    timepicker: {},
    timezone: 'utc',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          description: 'An InfluxDB data source answering InfluxQL (1.x directly, 2.x through a DBRP mapping, 3.x).',
          type: 'datasource',
          query: 'influxdb',
          current: { selected: true, text: 'InfluxDB (voice, InfluxQL)', value: DATASOURCE_UID },
          options: [],
          refresh: 1,
          regex: '',
          hide: 0,
        },
        queryVariable('testid', 'Run (testid)', 'SHOW TAG VALUES FROM "voice_rejected" WITH KEY = "testid"', 'The run tag set with --tag testid=… (several runs: compare them in the last row).'),
        queryVariable(
          'scenario',
          'Scenario',
          'SHOW TAG VALUES FROM "voice_rejected" WITH KEY = "scenario" WHERE "testid" =~ /^$testid$/',
          'k6 scenario names in the selected runs.',
        ),
        queryVariable(
          'auth_case',
          'Traffic class',
          'SHOW TAG VALUES FROM "voice_rejected" WITH KEY = "auth_case" WHERE "testid" =~ /^$testid$/',
          'valid, no_token, invalid (the auth_case tag).',
        ),
      ],
    },
    panels,
  };
}

export function dashboardJson(): string {
  return JSON.stringify(buildDashboard(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = fileURLToPath(new URL('./voice-sessions.json', import.meta.url));
  writeFileSync(out, dashboardJson());
  console.log(`wrote ${out}`);
}
