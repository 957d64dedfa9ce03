// The module registry: k6 import name → factory. The engine's own modules are imported
// statically; the network modules (H4: engine/modules/{websockets,ws,http}.ts) are loaded
// with a dynamic import that tolerates a missing file, so the engine builds and runs
// without them (a script importing one then fails at start, naming the module).
import type { ModuleFactory } from '../types.ts';
import { createCryptoModule } from './crypto.ts';
import { createDataModule } from './data.ts';
import { createEncodingModule } from './encoding.ts';
import { createExecutionModule } from './execution.ts';
import { createK6Module } from './k6.ts';
import { createMetricsModule } from './metrics.ts';
import { createTimersModule } from './timers.ts';

const CORE: Record<string, ModuleFactory> = {
  k6: createK6Module,
  'k6/metrics': createMetricsModule,
  'k6/execution': createExecutionModule,
  'k6/data': createDataModule,
  'k6/encoding': createEncodingModule,
  'k6/crypto': createCryptoModule,
  'k6/timers': createTimersModule,
};

/** Network modules: [k6 name, file next to this one, exported factory name]. */
const NETWORK: readonly [string, string, string][] = [
  ['k6/websockets', './websockets.ts', 'createWebsocketsModule'],
  ['k6/ws', './ws.ts', 'createWsModule'],
  ['k6/http', './http.ts', 'createHttpModule'],
];

let cached: Promise<Map<string, ModuleFactory>> | undefined;

async function loadOptional(file: string, exportName: string): Promise<ModuleFactory | undefined> {
  const url = new URL(file, import.meta.url);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url.href)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = (e as Error).message ?? '';
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && msg.includes(file.slice(2))) return undefined;
    throw e;
  }
  const f = mod[exportName];
  if (typeof f !== 'function') throw new Error(`engine/modules/${file.slice(2)} does not export ${exportName}()`);
  return f as ModuleFactory;
}

/** Every module the engine implements. */
export function moduleRegistry(): Promise<Map<string, ModuleFactory>> {
  cached ??= (async () => {
    const map = new Map<string, ModuleFactory>(Object.entries(CORE));
    for (const [name, file, exp] of NETWORK) {
      const f = await loadOptional(file, exp);
      if (f) map.set(name, f);
    }
    return map;
  })();
  return cached;
}
