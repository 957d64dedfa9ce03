// k6's duration values: a Go duration string ("1m30s", "500ms", "2h") or a number of
// milliseconds (k6 types.Duration UnmarshalJSON).

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a k6/Go duration into milliseconds; throws a k6-like message when invalid. */
export function parseDuration(value: unknown, field = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`invalid ${field} ${String(value)}`);
    return value;
  }
  if (typeof value !== 'string') throw new Error(`invalid ${field} ${JSON.stringify(value)}`);
  const s = value.trim();
  if (s === '0') return 0;
  if (/^-?\d+(\.\d+)?$/.test(s)) throw new Error(`time: missing unit in duration "${s}"`);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let neg = false;
  let rest = s;
  if (rest.startsWith('-')) {
    neg = true;
    rest = rest.slice(1);
  }
  let total = 0;
  re.lastIndex = 0;
  let pos = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
    pos = re.lastIndex;
  }
  if (pos !== rest.length || rest.length === 0) throw new Error(`time: invalid duration "${s}"`);
  return neg ? -total : total;
}

/** Formats milliseconds the way Go prints a time.Duration (1m30s, 500ms, 2.5s). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let v = Math.abs(ms);
  if (v < 1) return `${neg ? '-' : ''}${+(v * 1000).toFixed(3)}µs`;
  if (v < 1000) return `${neg ? '-' : ''}${+v.toFixed(6)}ms`;
  let out = '';
  const h = Math.floor(v / 3_600_000);
  v -= h * 3_600_000;
  const m = Math.floor(v / 60_000);
  v -= m * 60_000;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  out += `${+(v / 1000).toFixed(9)}s`;
  return (neg ? '-' : '') + out;
}
