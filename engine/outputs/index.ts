// -o/--out specs → outputs (k6 internal/cmd/outputs.go).
import { EngineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Output } from './types.ts';

export interface OutputDeps {
  env: Record<string, string | undefined>;
  logger: Logger;
  runTags: Record<string, string>;
}

export function createOutput(spec: string, _deps: OutputDeps): Output {
  const eq = spec.indexOf('=');
  const type = eq === -1 ? spec : spec.slice(0, eq);
  throw new EngineError(`invalid output type '${type}', available types are: json, influxdb, xk6-influxdb`, 255);
}
