// npm run target -- [flags]: the reference voicelive target on the command line.
// Prints `voicelive target listening on http://HOST:PORT (...)` on stdout once ready.

import { isIP } from 'node:net';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { UserError, intFlag, parseCliArgs, runMain } from '../tools/common/cli.ts';
import { ASYMMETRIC_ALGORITHMS } from './auth/keys.ts';
import { writeFileAtomic } from '../tools/common/files.ts';
import { FAULT_HELP, parseFaults } from './faults.ts';
import type { LogFormat } from './log.ts';
import { DEFAULTS } from './options.ts';
import { startTarget, type RunningTarget } from './server.ts';

export const HELP = `Usage: npm run target -- [flags]

The reference voicelive target: WebSocket upgrades at /api/v1/voice/voicelive/{session_id}?token=JWT,
verified against a JWKS (algorithms, issuer and audience pinned). Loopback by default.

  --tokens DIR                token folder: pool.json gives issuer, audience and the known users,
                              jwks.json the keys (default .tokens; run "npm run tokens" first)
  --jwks FILE|URL             JWKS file or URL instead of DIR/jwks.json
  --issuer ISS, --audience AUD   override pool.json's
  --algorithms A[,A…]         pinned JWS algorithms (default: those the JWKS keys declare,
                              asymmetric only, else RS256); HS* and none are never allowed
  --host ADDR                 listen address: an IP address or localhost (default 127.0.0.1)
  --port N                    listen port (default 0 = any free port)
  --auth-required true|false  false: requests without a valid token get the POC user (default true)
  --reject-style close|http   close: accept, then close 1008 with the reason (default);
                              http: refuse the upgrade with HTTP 403, no close frame
  --clock-tolerance SEC       clock skew tolerated on exp/nbf (default ${DEFAULTS.clockToleranceSec})
  --ping-interval MS          server pings every MS ms, close 1011 without a pong (default 0 = off)
  --max-message-bytes N       largest WebSocket message; bigger closes with 1009 (default ${DEFAULTS.maxMessageBytes})
  --max-header-bytes N        request line + headers limit; beyond it HTTP 414/431 (default ${DEFAULTS.maxHeaderBytes})
  --max-token-chars N         longer tokens are invalid without parsing (default ${DEFAULTS.maxTokenChars})
  --headers-timeout MS        time to send the request headers, then HTTP 408 (default ${DEFAULTS.headersTimeoutMs})
  --transcript-delay MS       delay of a transcript after its audio (default ${DEFAULTS.transcriptDelayMs})
  --utterance-ms MS           audio per transcript event, PCM16 mono at 24 kHz (default ${DEFAULTS.utteranceMs})
  --log json|plain|none       log format on stdout (default json)
  --ready-file FILE           write {url, wsUrl, port, pid} as JSON once listening
  --fault NAME[=VALUE]        inject a fault (repeatable), see below
  -h, --help                  this text

${FAULT_HELP}

Endpoints: GET /healthz, GET /stats, GET /api/v1/memory/sessions/{id} (Authorization: Bearer JWT).
SIGTERM/SIGINT close open sessions with 1001 and exit.`;

function bool(name: string, raw: string | undefined, dflt: boolean): boolean {
  if (raw === undefined) return dflt;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new UserError(`--${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], dflt: T): T {
  if (raw === undefined) return dflt;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new UserError(`--${name} must be one of ${allowed.join('|')}, got "${raw}"`);
}

/** An IP literal or `localhost`: no DNS lookup ever decides where the target listens. */
function hostFlag(raw: string | undefined): string {
  if (raw === undefined) return DEFAULTS.host;
  if (isIP(raw) !== 0 || raw === 'localhost') return raw;
  throw new UserError(`--host must be an IP address (e.g. 127.0.0.1 or ::1) or localhost, got "${raw}"`);
}

/** parseArgs messages can span lines; a user error is one line. */
function parseFlags(argv: string[]): ReturnType<typeof parseTargetFlags> {
  try {
    return parseTargetFlags(argv);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(err.message.replace(/\s*\n\s*/g, ' '));
    throw err;
  }
}

function parseTargetFlags(argv: string[]) {
  return parseCliArgs(argv, {
    tokens: { type: 'string' },
    jwks: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    algorithms: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'auth-required': { type: 'string' },
    'reject-style': { type: 'string' },
    'clock-tolerance': { type: 'string' },
    'ping-interval': { type: 'string' },
    'max-message-bytes': { type: 'string' },
    'max-header-bytes': { type: 'string' },
    'max-token-chars': { type: 'string' },
    'headers-timeout': { type: 'string' },
    'transcript-delay': { type: 'string' },
    'utterance-ms': { type: 'string' },
    log: { type: 'string' },
    'ready-file': { type: 'string' },
    fault: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
}

/** --algorithms RS256,ES256: asymmetric JWS algorithms only. */
function algorithmsFlag(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const algs = raw.split(',').map((a) => a.trim()).filter(Boolean);
  const bad = algs.filter((a) => !ASYMMETRIC_ALGORITHMS.includes(a));
  if (algs.length === 0 || bad.length > 0) {
    throw new UserError(`--algorithms takes a comma-separated list of ${ASYMMETRIC_ALGORITHMS.join(', ')}; got "${raw}"`);
  }
  return algs;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv);
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const target: RunningTarget = await startTarget({
    tokensDir: values.tokens ?? DEFAULTS.tokensDir,
    jwks: values.jwks,
    issuer: values.issuer,
    audience: values.audience,
    algorithms: algorithmsFlag(values.algorithms),
    host: hostFlag(values.host),
    port: intFlag('port', values.port, 0, 0, 65535),
    authRequired: bool('auth-required', values['auth-required'], true),
    rejectStyle: oneOf('reject-style', values['reject-style'], ['close', 'http'] as const, 'close'),
    clockToleranceSec: intFlag('clock-tolerance', values['clock-tolerance'], DEFAULTS.clockToleranceSec, 0, 600),
    pingIntervalMs: intFlag('ping-interval', values['ping-interval'], 0, 0, 3_600_000),
    maxMessageBytes: intFlag('max-message-bytes', values['max-message-bytes'], DEFAULTS.maxMessageBytes, 1024, 256 * 1024 * 1024),
    maxHeaderBytes: intFlag('max-header-bytes', values['max-header-bytes'], DEFAULTS.maxHeaderBytes, 1024, 1024 * 1024),
    maxTokenChars: intFlag('max-token-chars', values['max-token-chars'], DEFAULTS.maxTokenChars, 16, 1024 * 1024),
    headersTimeoutMs: intFlag('headers-timeout', values['headers-timeout'], DEFAULTS.headersTimeoutMs, 100, 3_600_000),
    transcriptDelayMs: intFlag('transcript-delay', values['transcript-delay'], DEFAULTS.transcriptDelayMs, 0, 60_000),
    utteranceMs: intFlag('utterance-ms', values['utterance-ms'], DEFAULTS.utteranceMs, 10, 60_000),
    logFormat: oneOf<LogFormat>('log', values.log, ['json', 'plain', 'none'], 'json'),
    faults: parseFaults(values.fault ?? []),
  });
  // The ready file first: whoever sees the ready line can read it.
  if (values['ready-file']) {
    const path = resolve(values['ready-file']);
    try {
      await writeFileAtomic(path, `${JSON.stringify({ url: target.url, wsUrl: target.wsUrl, port: target.port, pid: process.pid })}\n`);
    } catch (err) {
      // The listening server would keep the process alive: stop it before reporting.
      await target.close();
      throw new UserError(`cannot write --ready-file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  process.stdout.write(`voicelive target listening on ${target.url} (${target.describe})\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      target.close().then(done, done);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runMain('target', () => main(process.argv.slice(2)));
}
