import type { HttpPort } from '../net/http';
import type { SecretRedactor } from './logger';

// Everything an API answers passes through here before any code reads it, so a server that quotes our key back (in a
// 401 text, an error detail, an echoed form) cannot carry it into an error message, a log line, the database, a report
// or a bundle. Only the known secrets are masked: the answer keeps its shape (a token endpoint's own token stays).

export function redactingHttp(http: HttpPort, redactor: SecretRedactor): HttpPort {
  return async (request) => {
    try {
      const response = await http(request);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) headers[name] = redactor.scrubKnown(value);
      return { status: response.status, headers, body: redactor.scrubKnown(response.body) };
    } catch (error) {
      if (error instanceof Error) {
        error.message = redactor.scrubKnown(error.message);
        if (error.stack) error.stack = redactor.scrubKnown(error.stack);
      }
      throw error;
    }
  };
}
