// InfluxDB outputs with k6's schema (k6 internal/output/influxdb/{config,output}.go):
// measurement = metric name, indexed tags (minus tagsAsFields), fields `value` plus the
// tagsAsFields tags, sample time in ns; metadata (vu, iter, …) never written.
// - `-o influxdb=http://HOST:PORT/DB` : v1 `/write?db=` (CREATE DATABASE at start, errors ignored).
// - `-o xk6-influxdb=http://HOST:PORT`: v2 `/api/v2/write?org=&bucket=` (xk6-output-influxdb),
//   K6_INFLUXDB_ORGANIZATION / K6_INFLUXDB_BUCKET / K6_INFLUXDB_TOKEN.
// Pushes every pushInterval (1 s). A write failure logs `Couldn't write stats` and the run
// goes on, as in k6; every request has a timeout, so an unreachable server never hangs.
import { parseDuration } from '../duration.ts';
import { EngineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Sample } from '../types.ts';
import type { Output } from './types.ts';

type FieldKind = 'string' | 'int' | 'float' | 'bool';

export function escapeMeasurement(s: string): string {
  return s.replace(/[,\s\\]/g, (c) => `\\${c}`);
}
export function escapeTag(s: string): string {
  return s.replace(/[,=\s\\]/g, (c) => `\\${c}`);
}
function fieldValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Object.is(v, v) ? `${v}` : String(v);
  if (typeof v === 'bigint') return `${v}i`;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return `"${String(v).replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export function parseTagsAsFields(list: string[]): Map<string, FieldKind> {
  const m = new Map<string, FieldKind>();
  for (const item of list) {
    const [name, kind] = item.split(':') as [string, string | undefined];
    if (!name) continue;
    const k = (kind ?? 'string') as FieldKind;
    if (!['string', 'int', 'float', 'bool'].includes(k)) throw new EngineError(`An invalid type (${kind}) is specified for an InfluxDB field (${name}).`, 255);
    m.set(name.trim(), k);
  }
  return m;
}

/** One sample as a line-protocol line (tags sorted, empty tag values dropped as the Go client does). */
export function toLine(s: Sample, fieldKinds: ReadonlyMap<string, FieldKind>): string {
  const tags: [string, string][] = [];
  const fields: [string, string][] = [];
  for (const [k, v] of Object.entries(s.tags)) {
    const kind = fieldKinds.get(k);
    if (kind) {
      let fv: unknown = v;
      if (kind === 'int' && /^-?\d+$/.test(v)) fv = BigInt(v);
      else if (kind === 'float' && v.trim() !== '' && !Number.isNaN(Number(v))) fv = Number(v);
      else if (kind === 'bool' && /^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(v)) fv = /^(1|t|T|TRUE|true|True)$/.test(v);
      fields.push([k, fieldValue(fv)]);
      continue;
    }
    if (k === '' || v === '') continue;
    tags.push([k, v]);
  }
  tags.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  fields.push(['value', fieldValue(s.value)]);
  fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const ns = BigInt(Math.floor(s.time)) * 1_000_000n + BigInt(Math.round((s.time % 1) * 1e6));
  const tagStr = tags.map(([k, v]) => `,${escapeTag(k)}=${escapeTag(v)}`).join('');
  const fieldStr = fields.map(([k, v]) => `${escapeTag(k)}=${v}`).join(',');
  return `${escapeMeasurement(s.metric.name)}${tagStr} ${fieldStr} ${ns}`;
}

interface InfluxConfig {
  addr: string;
  db: string;
  username?: string;
  password?: string;
  pushIntervalMs: number;
  tagsAsFields: string[];
  retention?: string;
  consistency?: string;
  precision?: string;
  // v2
  org?: string;
  bucket?: string;
  token?: string;
}

function truthy(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  return v === 'true' || v === '1';
}

/** defaults < environment < URL (k6 GetConsolidatedConfig). */
export function influxConfig(spec: string, env: Record<string, string | undefined>, v2: boolean): InfluxConfig {
  const c: InfluxConfig = {
    addr: env.K6_INFLUXDB_ADDR || 'http://localhost:8086',
    db: env.K6_INFLUXDB_DB || 'k6',
    pushIntervalMs: 1000,
    tagsAsFields: v2 ? ['vu:int', 'iter:int', 'url'] : ['vu', 'iter', 'url'],
  };
  if (env.K6_INFLUXDB_USERNAME) c.username = env.K6_INFLUXDB_USERNAME;
  if (env.K6_INFLUXDB_PASSWORD) c.password = env.K6_INFLUXDB_PASSWORD;
  if (env.K6_INFLUXDB_PUSH_INTERVAL) c.pushIntervalMs = parseDuration(env.K6_INFLUXDB_PUSH_INTERVAL);
  if (env.K6_INFLUXDB_TAGS_AS_FIELDS) c.tagsAsFields = env.K6_INFLUXDB_TAGS_AS_FIELDS.split(',').map((s) => s.trim());
  if (env.K6_INFLUXDB_RETENTION) c.retention = env.K6_INFLUXDB_RETENTION;
  if (env.K6_INFLUXDB_CONSISTENCY) c.consistency = env.K6_INFLUXDB_CONSISTENCY;
  if (env.K6_INFLUXDB_PRECISION) c.precision = env.K6_INFLUXDB_PRECISION;
  if (v2) {
    if (env.K6_INFLUXDB_ORGANIZATION) c.org = env.K6_INFLUXDB_ORGANIZATION;
    if (env.K6_INFLUXDB_BUCKET) c.bucket = env.K6_INFLUXDB_BUCKET;
    if (env.K6_INFLUXDB_TOKEN) c.token = env.K6_INFLUXDB_TOKEN;
  }
  void truthy;
  if (spec) {
    let u: URL;
    try {
      u = new URL(spec);
    } catch {
      throw new EngineError(`could not create the '${v2 ? 'xk6-influxdb' : 'influxdb'}' output: invalid URL "${spec}"`, 255);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new EngineError(`could not create the '${v2 ? 'xk6-influxdb' : 'influxdb'}' output: unsupported protocol scheme "${u.protocol.replace(':', '')}"`, 255);
    }
    let prefix = u.pathname;
    let db = '';
    if (!v2 && prefix !== '' && prefix !== '/') {
      if (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
      else {
        const i = prefix.lastIndexOf('/');
        db = prefix.slice(i + 1);
        prefix = prefix.slice(0, i);
      }
    } else if (prefix === '/') prefix = '';
    c.addr = `${u.protocol}//${u.host}${v2 ? prefix.replace(/\/$/, '') : prefix}`;
    if (db) c.db = decodeURIComponent(db);
    if (u.username) c.username = decodeURIComponent(u.username);
    if (u.password) c.password = decodeURIComponent(u.password);
    for (const [k, v] of u.searchParams) {
      switch (k) {
        case 'tagsAsFields':
          c.tagsAsFields = u.searchParams.getAll(k).flatMap((x) => x.split(','));
          break;
        case 'pushInterval':
          c.pushIntervalMs = parseDuration(v);
          break;
        case 'retention':
          c.retention = v;
          break;
        case 'consistency':
          c.consistency = v;
          break;
        case 'precision':
          c.precision = v;
          break;
        case 'insecure':
        case 'payload_size':
        case 'concurrentWrites':
          break;
        default:
          throw new EngineError(`could not create the 'influxdb' output: unknown query parameter: ${k}`, 255);
      }
    }
  }
  return c;
}

export class InfluxOutput implements Output {
  readonly description: string;
  private readonly fieldKinds: Map<string, FieldKind>;
  private buf: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(
    private readonly cfg: InfluxConfig,
    private readonly v2: boolean,
    private readonly logger: Logger,
  ) {
    this.fieldKinds = parseTagsAsFields(cfg.tagsAsFields);
    this.description = v2 ? `xk6-influxdb (${cfg.addr})` : `InfluxDBv1 (${cfg.addr})`;
    if (v2 && (!cfg.org || !cfg.bucket)) {
      throw new EngineError('could not create the \'xk6-influxdb\' output: K6_INFLUXDB_ORGANIZATION and K6_INFLUXDB_BUCKET are required', 255);
    }
  }

  private headers(contentType = 'text/plain; charset=utf-8'): Record<string, string> {
    const h: Record<string, string> = { 'Content-Type': contentType };
    if (this.v2 && this.cfg.token) h.Authorization = `Token ${this.cfg.token}`;
    else if (this.cfg.username) h.Authorization = `Basic ${Buffer.from(`${this.cfg.username}:${this.cfg.password ?? ''}`).toString('base64')}`;
    return h;
  }

  async start(): Promise<void> {
    if (!this.v2) {
      // k6: CREATE DATABASE at start; failure is "most likely harmless" and ignored.
      try {
        const body = new URLSearchParams({ q: `CREATE DATABASE ${this.cfg.db}` });
        await fetch(`${this.cfg.addr}/query`, {
          method: 'POST',
          body,
          headers: this.headers('application/x-www-form-urlencoded'),
          signal: AbortSignal.timeout(5000),
        });
      } catch {
        // ignored, as in k6
      }
    }
    this.timer = setInterval(() => this.flush(), Math.max(10, this.cfg.pushIntervalMs));
    this.timer.unref();
  }

  addSamples(samples: readonly Sample[]): void {
    for (const s of samples) this.buf.push(s);
  }

  private writeUrl(): string {
    if (this.v2) {
      const q = new URLSearchParams({ org: this.cfg.org ?? '', bucket: this.cfg.bucket ?? '', precision: 'ns' });
      return `${this.cfg.addr}/api/v2/write?${q}`;
    }
    const q = new URLSearchParams({ db: this.cfg.db, precision: 'ns' });
    if (this.cfg.retention) q.set('rp', this.cfg.retention);
    if (this.cfg.consistency) q.set('consistency', this.cfg.consistency);
    return `${this.cfg.addr}/write?${q}`;
  }

  private flush(): Promise<void> {
    if (this.buf.length === 0) return this.inflight;
    const samples = this.buf;
    this.buf = [];
    const body = `${samples.map((s) => toLine(s, this.fieldKinds)).join('\n')}\n`;
    this.inflight = this.inflight.then(async () => {
      try {
        const res = await fetch(this.writeUrl(), { method: 'POST', body, headers: this.headers(), signal: AbortSignal.timeout(10_000) });
        if (res.status >= 300) {
          const text = (await res.text()).slice(0, 300);
          throw new Error(`${res.status} ${res.statusText}: ${text.trim()}`);
        }
      } catch (e) {
        this.failures++;
        const err = (e as Error & { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
        let msg = "Couldn't write stats";
        if (!this.v2 && err.includes('unauthorized access')) {
          msg += ", InfluxDB v2.x isn't supported by this output, if you are using it you may consider to use the extension https://github.com/grafana/xk6-output-influxdb";
        }
        this.logger.log('error', msg, { error: err, output: this.v2 ? 'xk6-influxdb' : 'InfluxDBv1' });
      }
    });
    return this.inflight;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
