import { extname, resolve, sep } from 'node:path';

// The renderer is served from `app://workbench/`, a privileged scheme of our own, rather than file://: the page
// gets a real origin, every response carries the CSP as a header (frame-ancestors works only there), and a
// request can never reach a file outside the built renderer folder.

export const appScheme = 'app';
export const appHost = 'workbench';
export const appOrigin = `${appScheme}://${appHost}`;
export const appEntryUrl = `${appOrigin}/index.html`;

// Stricter than the web host's: under Electron the renderer talks to core only through the preload's IPC, so it
// has nothing to fetch at all.
export const desktopContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'", // AG Grid injects its theme styles at run time
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'none'",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

const mimeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

export const appResponseHeaders = (contentType: string): Record<string, string> => ({
  'content-type': contentType,
  'content-security-policy': desktopContentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

export type AppAsset = { file: string; contentType: string } | { status: 400 | 403 | 404; reason: string };

/** Maps an `app://workbench/…` request to a file inside `rendererDir`, or says why it is refused. */
export function resolveAppAsset(rendererDir: string, requestUrl: string): AppAsset {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { status: 400, reason: 'not a URL' };
  }
  if (url.protocol !== `${appScheme}:` || url.host !== appHost) return { status: 403, reason: `not the app's origin: ${url.origin}` };
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return { status: 400, reason: 'malformed path' };
  }
  if (path.includes('\0') || path.includes('\\')) return { status: 400, reason: 'malformed path' };
  if (path === '/' || path === '') path = '/index.html';
  const root = resolve(rendererDir);
  const file = resolve(root, `.${path}`);
  if (file !== root && !file.startsWith(root + sep)) return { status: 403, reason: 'outside the app folder' };
  const contentType = mimeTypes[extname(file).toLowerCase()];
  if (!contentType) return { status: 404, reason: 'not an app file type' };
  return { file, contentType };
}
