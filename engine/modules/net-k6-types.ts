// Compile-time guard: every call k6's own declarations (@types/k6) allow must type-check
// against the engine's network modules, so a signature narrower than k6's fails `tsc`.
// Nothing here runs.
import type * as K6Http from 'k6/http';
import type * as K6Websockets from 'k6/websockets';
import type { httpExports } from './http.ts';
import type { websocketsExports } from './websockets.ts';

type Http = ReturnType<typeof httpExports>;
type Ws = ReturnType<typeof websocketsExports>;

/** True when every argument list A of k6 is accepted by ours (B). */
type Accepts<Ours extends (...a: never[]) => unknown, K6Args extends unknown[]> = K6Args extends Parameters<Ours> ? true : false;
type Assert<T extends true> = T;

export type HttpGuard = [
  Assert<Accepts<Http['asyncRequest'], Parameters<typeof K6Http.asyncRequest>>>,
  Assert<Accepts<Http['expectedStatuses'], Parameters<typeof K6Http.expectedStatuses>>>,
  Assert<Accepts<Http['setResponseCallback'], Parameters<typeof K6Http.setResponseCallback>>>,
  // Present (they throw, naming asyncRequest) so a script fails with a clear message.
  Assert<'get' | 'post' | 'request' | 'del' | 'put' | 'patch' | 'head' | 'options' | 'batch' extends keyof Http ? true : false>,
];

export type WebsocketsGuard = [
  Assert<Accepts<Ws['WebSocket'], ConstructorParameters<typeof K6Websockets.WebSocket>>>,
  Assert<Accepts<(...a: ConstructorParameters<Ws['Blob']>) => void, ConstructorParameters<typeof K6Websockets.Blob>>>,
];
