import { appendFileSync } from 'node:fs';
import type { Clock, LogFields, Logger } from '../ports';

// Secrets must never reach a log line: any field whose name looks like a credential is replaced before writing.
const secretKey = /(pass(word)?|secret|token|api[-_]?key|authorization|credential)/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = secretKey.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
type Sink = (line: string) => void;

export function createLogger(options: { clock: Clock; sink: Sink; minLevel?: Level }): Logger {
  const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  const min = order[options.minLevel ?? 'info'];
  const write = (level: Level, message: string, fields?: LogFields) => {
    if (order[level] < min) return;
    const entry = { at: new Date(options.clock.now()).toISOString(), level, message, ...(redact(fields ?? {}) as object) };
    options.sink(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

export const fileSink =
  (file: string): Sink =>
  (line) =>
    appendFileSync(file, line + '\n');

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
