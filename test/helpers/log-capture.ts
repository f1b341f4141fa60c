import { Writable } from 'node:stream';
import { createLogger, setLogger } from '@/lib/log';

/** A parsed log line: pino's JSON object. */
export type LogLine = Record<string, unknown> & { level: string; msg?: string; event?: string };

/** What the checkout logged in this process while capturing, and the way back to the default logger. */
export interface LogCapture {
  lines: LogLine[];
  /** Raw text as written (to look for secrets byte for byte). */
  text: () => string;
  restore: () => void;
}

/**
 * Routes the process's logger (lib/log) into memory, with the app's own rules (JSON, scrubbing), so
 * a test sees exactly the lines a server would print.
 */
export function captureLogs(level = 'debug'): LogCapture {
  const lines: LogLine[] = [];
  let raw = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const s = chunk.toString('utf8');
      raw += s;
      for (const l of s.split('\n').filter(Boolean)) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  setLogger(createLogger({ level, destination: sink }));
  return { lines, text: () => raw, restore: () => setLogger(undefined) };
}

/** Every JSON log line in a server's captured output (Next's own banner lines are not JSON and are skipped). */
export function jsonLines(output: string): LogLine[] {
  const out: LogLine[] = [];
  for (const l of output.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as LogLine);
    } catch {
      /* a line cut by the capture */
    }
  }
  return out;
}
