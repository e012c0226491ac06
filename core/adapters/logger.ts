import { appendFileSync } from 'node:fs';
import type { Clock, LogFields, Logger } from '../ports';

// Secrets must never reach a log line. Three nets, because a secret can hide in a field's name, in a familiar
// shape inside some text (an Authorization header, `client_secret=` in a form), or anywhere at all:
// 1. any field whose name looks like a credential is replaced;
// 2. credential shapes are masked inside every string (messages, error texts, nested fields);
// 3. the values the app actually read from or wrote to the keychain are masked wherever they appear, when the
//    logger is given the same redactor as the secret store (see `rememberSecrets` in keytar-secrets.ts).

const secretKey = /(pass(word)?|secret|token|api[-_]?key|authorization|credential|cookie)/i;
const mask = '[redacted]';

const secretShapes: [RegExp, string][] = [
  // `Authorization: Bearer abc`, `authorization=abc`, `"authorization":"abc"`, and Bearer/Basic tokens anywhere.
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${mask}`],
  [/(\b(?:authorization|proxy-authorization|x-api-key)\b["']?\s*[:=]\s*["']?)(?!(?:bearer|basic)\s)[^\s"',;}&]+/gi, `$1${mask}`],
  // Query strings and form bodies: `?api_key=…`, `client_secret=…`, `&password=…`.
  [/(\b[\w-]*(?:api[-_]?key|secret|password|passwd|token)=)[^&\s"',;]+/gi, `$1${mask}`],
  // JSON text inside a string: `"client_secret": "…"`.
  [/("[\w-]*(?:api[-_]?key|secret|password|token)[\w-]*"\s*:\s*")(?:[^"\\]|\\.)*"/gi, `$1${mask}"`],
];

export interface SecretRedactor {
  /** Masks this value in every later log line (and its URL-encoded form). Values shorter than 4 are ignored. */
  remember(secret: string): void;
  /** The text with every remembered value and every credential shape masked. */
  scrub(text: string): string;
  /**
   * The text with only the remembered values masked: for data that must keep its shape (an API's answer, which may
   * legitimately carry a token of its own), before any of it is stored or logged.
   */
  scrubKnown(text: string): string;
}

export function createSecretRedactor(): SecretRedactor {
  const known = new Set<string>();
  const scrubKnown = (text: string) => {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...known].sort((a, b) => b.length - a.length)) out = out.split(secret).join(mask);
    return out;
  };
  return {
    remember(secret) {
      if (secret.length < 4) return;
      known.add(secret);
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) known.add(encoded);
    },
    scrubKnown,
    scrub(text) {
      let out = scrubKnown(text);
      for (const [shape, replacement] of secretShapes) out = out.replace(shape, replacement);
      return out;
    },
  };
}

const patternsOnly = createSecretRedactor();

/** A copy of `value` with credential-named fields replaced and every string scrubbed. */
export function redact(value: unknown, redactor: SecretRedactor = patternsOnly, depth = 0): unknown {
  if (typeof value === 'string') return redactor.scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, redactor, depth + 1));
  if (value instanceof Error) return redactor.scrub(value.message);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = secretKey.test(k) ? mask : redact(v, redactor, depth + 1);
  }
  return out;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
type Sink = (line: string) => void;

export function createLogger(options: { clock: Clock; sink: Sink; minLevel?: Level; redactor?: SecretRedactor }): Logger {
  const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  const min = order[options.minLevel ?? 'info'];
  const redactor = options.redactor ?? patternsOnly;
  const write = (level: Level, message: string, fields?: LogFields) => {
    if (order[level] < min) return;
    const entry = {
      at: new Date(options.clock.now()).toISOString(),
      level,
      message: redactor.scrub(message),
      ...(redact(fields ?? {}, redactor) as object),
    };
    options.sink(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/**
 * `log` with every line scrubbed by `redactor` first: a host's logger, whatever it was made with, masks every secret
 * the keychain handed out. Scrubbing twice is harmless, so a logger that already shares the redactor may be wrapped.
 */
export function redactingLogger(log: Logger, redactor: SecretRedactor): Logger {
  const wrap =
    (level: keyof Logger) =>
    (message: string, fields?: LogFields): void =>
      log[level](redactor.scrub(message), fields === undefined ? undefined : (redact(fields, redactor) as LogFields));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

export const fileSink =
  (file: string): Sink =>
  (line) =>
    appendFileSync(file, line + '\n');

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
