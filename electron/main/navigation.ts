// The window only ever shows the app itself. Links to documentation open in the user's browser, and only for
// hosts on this list; everything else is refused.
export const externalAllowList = new Set([
  'developer.mirakl.com',
  'help.mirakl.com',
  'docs.reboundreturns.com',
  'knowledge.reboundreturns.com',
]);

export function isAllowedExternal(rawUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.username === '' && url.password === '' && externalAllowList.has(url.hostname);
}

/** True when `rawUrl` is the app's own page (same origin and path as the page we loaded). */
export function isAppUrl(rawUrl: string, appUrl: string): boolean {
  try {
    const url = new URL(rawUrl);
    const app = new URL(appUrl);
    return url.protocol === app.protocol && url.host === app.host && url.pathname === app.pathname;
  } catch {
    return false;
  }
}

/**
 * True when `rawUrl` is a page of the team server this desktop is the client of (any path on exactly its origin: the
 * server's renderer routes its own pages), without credentials in it. Nothing else may load in the window.
 */
export function isTeamServerUrl(rawUrl: string, teamOrigin: string): boolean {
  try {
    const url = new URL(rawUrl);
    return url.protocol === 'https:' && url.origin === teamOrigin && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/**
 * Which requests the app's pages may make at all (checked by the session for every request): the app's own
 * files, inline data, and Chromium's own devtools. Everything else — the network, file:// — is cancelled.
 */
export function isAllowedRequest(rawUrl: string, appOrigin: string): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  if (url.protocol === 'data:' || url.protocol === 'devtools:') return true;
  return url.origin === appOrigin || `${url.protocol}//${url.host}` === appOrigin;
}
