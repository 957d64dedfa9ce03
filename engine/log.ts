// k6-style log lines on stderr: time="…" level=… msg="…" (logrus text format, as k6 prints
// when stderr is not a TTY). Quiet mode does not silence errors, as in k6.

export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, string>): void;
}

function quote(s: string): string {
  return /^[A-Za-z0-9_.:/@-]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatLogLine(level: Level, msg: string, fields: Record<string, string> = {}, now = new Date()): string {
  let line = `time="${now.toISOString().replace(/\.\d+Z$/, 'Z')}" level=${level} msg=${JSON.stringify(msg)}`;
  // logrus' text formatter sorts the fields by key.
  for (const k of Object.keys(fields).sort()) line += ` ${k}=${quote(fields[k] as string)}`;
  return line;
}

export function createStderrLogger(write: (s: string) => void = (s) => process.stderr.write(s)): Logger {
  return {
    log(level, msg, fields) {
      write(`${formatLogLine(level, msg, fields)}\n`);
    },
  };
}
