import { request } from 'node:http';
import { request as tlsRequest } from 'node:https';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP call, so tests can send the headers a browser would never let fetch() set (Host, Origin). */
export function rawRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string; /** HTTPS, trusting this certificate (PEM). */ ca?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const send = options.ca === undefined ? request : tlsRequest;
    const req = send(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {}, ...(options.ca !== undefined ? { ca: options.ca, servername: 'localhost' } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** POSTs 2 MB on a keep-alive connection; resolves with the answer's status and Connection header. */
export function oversizedPost(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { ...headers, connection: 'keep-alive', 'content-length': String(2 * 1024 * 1024) } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
    });
    // The server may stop reading once it has answered: a write error after that is expected.
    req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
    req.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
  });
}
