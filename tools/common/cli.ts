// Shared shape of every Node command-line tool in this project: user mistakes print one
// line and exit 2 (no stack trace); real faults print the stack and exit 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake the user can fix: bad flag, bad value, unreadable file. One line, exit 2. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string) {
    super(message);
  }
}

/** Exit codes shared by the tools (the engine uses k6's own codes instead). */
export const EXIT_USAGE = 2;

/**
 * Parses argv strictly with node:util parseArgs. Unknown flags, missing values and
 * stray positionals become a UserError naming the flag.
 */
export function parseCliArgs<T extends ParseArgsConfig['options']>(
  argv: string[],
  options: T,
  { allowPositionals = false }: { allowPositionals?: boolean } = {},
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    // Node's messages can span several lines ("... is ambiguous.\nDid you forget ..."):
    // keep the first, the one that names the flag, so the user still gets one line.
    // Node's unknown-option text goes on with advice about positionals after '. ': cut there too.
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.split(/\.\s/)[0]!.trim();
    throw new UserError(`${msg.replace(/\.$/, '')}; see --help`);
  }
}

/** Parses an integer flag value within [min, max] or throws a UserError naming the flag. */
export function intFlag(name: string, raw: string | undefined, dflt: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return dflt;
  if (!/^-?\d+$/.test(raw.trim())) throw new UserError(`--${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new UserError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/**
 * Runs a CLI entry point: a UserError prints `<tool>: <message>` and exits 2; any other
 * error prints its stack and exits 1; a returned number is the exit code.
 */
export function runMain(tool: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UserError) {
        process.stderr.write(`${tool}: ${err.message}\n`);
        process.exitCode = EXIT_USAGE;
      } else {
        process.stderr.write(`${tool}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
      }
    },
  );
}
