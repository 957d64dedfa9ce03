// -o/--out specs → outputs (k6 internal/cmd/outputs.go): json=FILE, influxdb=URL,
// xk6-influxdb=URL. An unknown type or a bad argument fails at start (k6: exit -1 → 255).
import { EngineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { InfluxOutput, influxConfig } from './influxdb.ts';
import { JsonOutput } from './json.ts';
import type { Output } from './types.ts';

export interface OutputDeps {
  env: Record<string, string | undefined>;
  logger: Logger;
  runTags: Record<string, string>;
}

export function createOutput(spec: string, deps: OutputDeps): Output {
  const eq = spec.indexOf('=');
  const type = eq === -1 ? spec : spec.slice(0, eq);
  const arg = eq === -1 ? '' : spec.slice(eq + 1);
  switch (type) {
    case 'json':
      return new JsonOutput(arg);
    case 'influxdb':
      return new InfluxOutput(influxConfig(arg, deps.env, false), false, deps.logger);
    case 'xk6-influxdb':
      return new InfluxOutput(influxConfig(arg, deps.env, true), true, deps.logger);
    default:
      throw new EngineError(`invalid output type '${type}', available types are: json, influxdb, xk6-influxdb`, 255);
  }
}
