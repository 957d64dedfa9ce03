// Execution segments and k6's striping (k6 lib/execution_segment.go): how an instance's
// share of VUs, iterations and ids is computed with no coordinator. Reimplemented from the
// algorithm's description; checked against the vectors in k6's own tests.

export interface Frac {
  n: number;
  d: number;
}

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a || 1;
}
function frac(n: number, d: number): Frac {
  const g = gcd(n, d);
  return { n: n / g, d: d / g };
}
const eq = (a: Frac, b: Frac) => a.n * b.d === b.n * a.d;
const cmp = (a: Frac, b: Frac) => a.n * b.d - b.n * a.d;
const sub = (a: Frac, b: Frac) => frac(a.n * b.d - b.n * a.d, a.d * b.d);

/** Parses `1/3`, `0.5`, `50%` (k6 stringToRat). */
export function parseRat(s: string): Frac {
  const t = s.trim();
  if (t.endsWith('%')) {
    const r = parseRat(t.slice(0, -1));
    return frac(r.n, r.d * 100);
  }
  const m = /^(\d+)\/(\d+)$/.exec(t);
  if (m) {
    if (Number(m[2]) === 0) throw new Error(`invalid value ${s}`);
    return frac(Number(m[1]), Number(m[2]));
  }
  const dm = /^(\d+)(?:\.(\d+))?$/.exec(t);
  if (!dm) throw new Error(`'${s}' is not a valid percentage, decimal, fraction or interval value`);
  const dec = dm[2] ?? '';
  const d = 10 ** dec.length;
  return frac(Number(dm[1]) * d + (dec ? Number(dec) : 0), d);
}

export interface Segment {
  from: Frac;
  to: Frac;
}
const len = (s: Segment) => sub(s.to, s.from);
const ratStr = (f: Frac) => (f.d === 1 ? String(f.n) : `${f.n}/${f.d}`);
export const segmentString = (s: Segment) => `${ratStr(s.from)}:${ratStr(s.to)}`;

/** `from:to` or `to` (k6 NewExecutionSegmentFromString). */
export function parseSegment(s: string): Segment {
  const parts = s.split(':');
  let seg: Segment;
  if (parts.length === 1) seg = { from: { n: 0, d: 1 }, to: parseRat(parts[0] ?? '') };
  else if (parts.length === 2) seg = { from: parseRat(parts[0] ?? ''), to: parseRat(parts[1] ?? '') };
  else throw new Error(`malformed execution segment '${s}'`);
  if (cmp(seg.from, { n: 0, d: 1 }) < 0 || cmp(seg.to, { n: 1, d: 1 }) > 0 || cmp(seg.from, seg.to) >= 0) {
    throw new Error(`segment '${s}' is invalid: from must be < to, both between 0 and 1`);
  }
  return seg;
}

/** `0,1/3,2/3,1` (k6 NewExecutionSegmentSequenceFromString). */
export function parseSequence(s: string): Segment[] {
  const pts = s.split(',').map((p) => parseRat(p));
  if (pts.length < 2) throw new Error(`at least 2 points are needed for an execution segment sequence, ${pts.length} given`);
  const out: Segment[] = [];
  for (let i = 1; i < pts.length; i++) {
    const from = pts[i - 1] as Frac;
    const to = pts[i] as Frac;
    if (cmp(from, to) >= 0) throw new Error(`execution segment sequence '${s}' is not increasing`);
    out.push({ from, to });
  }
  return out;
}

/** A filled sequence plus the striped offsets of one segment (k6 ExecutionTuple). */
export class ExecutionTuple {
  readonly lcd: number;
  private readonly offsets: number[][];
  constructor(
    readonly sequence: Segment[],
    readonly index: number,
  ) {
    const lens = sequence.map(len);
    let lcd = lens[0]?.d ?? 1;
    for (const l of lens.slice(1)) lcd = (lcd * l.d) / gcd(lcd, l.d);
    this.lcd = lcd;
    const norm = lens.map((l, i) => ({ num: l.n * (lcd / l.d), idx: i }));
    const sorted = [...norm].sort((a, b) => b.num - a.num); // stable in V8
    const offsets: number[][] = lens.map(() => []);
    const prev = lens.map(() => 0);
    const chosen = sorted.map(() => 0);
    for (let i = 0; i < lcd; i++) {
      for (let si = 0; si < sorted.length; si++) {
        const num = (chosen[si] ?? 0) * lcd;
        const den = (sorted[si] as { num: number }).num;
        const q = Math.floor(num / den);
        if (i > q || (i === q && num % den === 0)) {
          chosen[si] = (chosen[si] ?? 0) + 1;
          const oi = (sorted[si] as { idx: number }).idx;
          const o = offsets[oi] as number[];
          o.push(i - (prev[oi] ?? 0));
          prev[oi] = i;
          if (o.length === den) o.push((o[0] ?? 0) + lcd - i);
          break;
        }
      }
    }
    this.offsets = offsets;
  }

  static create(segment: Segment | undefined, sequence: Segment[] | undefined): ExecutionTuple {
    const zero = { n: 0, d: 1 };
    const one = { n: 1, d: 1 };
    let seq: Segment[];
    if (!sequence || sequence.length === 0) {
      if (!segment || eq(len(segment), one)) return new ExecutionTuple([{ from: zero, to: one }], 0);
      seq = [segment];
    } else seq = [...sequence];
    const first = seq[0] as Segment;
    if (!eq(first.from, zero)) seq.unshift({ from: zero, to: first.from });
    const last = seq[seq.length - 1] as Segment;
    if (!eq(last.to, one)) seq.push({ from: last.to, to: one });
    const seg = segment ?? { from: zero, to: one };
    const idx = seq.findIndex((s) => eq(s.from, seg.from) && eq(s.to, seg.to));
    if (idx === -1) {
      throw new Error(`couldn't find segment ${segmentString(seg)} in sequence ${seq.map(segmentString).join(',')}`);
    }
    return new ExecutionTuple(seq, idx);
  }

  get segment(): Segment {
    return this.sequence[this.index] as Segment;
  }

  private scaleAt(i: number, value: number): number {
    const o = this.offsets[i] as number[];
    const start = o[0] ?? 0;
    const rest = o.slice(1);
    let result = Math.floor(value / this.lcd) * rest.length;
    for (let gi = 0, k = start; k < value % this.lcd; k += rest[gi] ?? 1, gi++) result++;
    return result;
  }

  /** This instance's share of an integer quantity (k6 ExecutionTuple.ScaleInt64). */
  scale(value: number): number {
    if (this.sequence.length === 1) return value;
    return this.scaleAt(this.index, value);
  }

  /** Scales a real quantity (a rate) by the segment's length. */
  scaleFloat(value: number): number {
    const l = len(this.segment);
    return (value * l.n) / l.d;
  }

  /** k6 GetNewExecutionTupleFromValue: re-segments for a quantity (an executor's VUs). */
  forValue(value: number): ExecutionTuple | undefined {
    if (value < 1) return undefined;
    if (value % this.lcd === 0) return this;
    const seq: Segment[] = [];
    let newIndex = -1;
    let prev = 0;
    for (let i = 0; i < this.sequence.length; i++) {
      const v = this.scaleAt(i, value);
      if (v === 0) continue;
      if (i === this.index) newIndex = seq.length;
      seq.push({ from: frac(prev, value), to: frac(prev + v, value) });
      prev += v;
    }
    if (newIndex === -1) return undefined;
    return new ExecutionTuple(seq, newIndex);
  }

  /** A fresh striped iterator (k6 SegmentedIndex). */
  index0(): SegmentedIndex {
    const o = this.offsets[this.index] as number[];
    return new SegmentedIndex(o[0] ?? 0, o.slice(1), this.lcd);
  }
}

export class SegmentedIndex {
  private scaled = 0;
  private unscaled = 0;
  constructor(
    private readonly start: number,
    private readonly offsets: number[],
    readonly lcd: number,
  ) {}
  /** Next (scaled, unscaled), both 1-based. */
  next(): [number, number] {
    if (this.scaled === 0) this.unscaled += this.start + 1;
    else this.unscaled += this.offsets[(this.scaled - 1) % this.offsets.length] ?? 1;
    this.scaled++;
    return [this.scaled, this.unscaled];
  }
}
