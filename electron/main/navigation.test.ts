import { describe, expect, it } from 'vitest';
import { appEntryUrl, appOrigin } from './app-protocol';
import { isAllowedExternal, isAllowedRequest, isAppUrl, isTeamServerUrl } from './navigation';

describe('navigation guards', () => {
  it('open only https links to allow-listed documentation hosts', () => {
    expect(isAllowedExternal('https://developer.mirakl.com/content/product/mmp/rest/seller/openapi3')).toBe(true);
    expect(isAllowedExternal('http://developer.mirakl.com/')).toBe(false);
    expect(isAllowedExternal('https://developer.mirakl.com.evil.example/')).toBe(false);
    expect(isAllowedExternal('https://user:pw@developer.mirakl.com/')).toBe(false);
    expect(isAllowedExternal('file:///etc/passwd')).toBe(false);
    expect(isAllowedExternal('javascript:alert(1)')).toBe(false);
    expect(isAllowedExternal('not a url')).toBe(false);
  });

  it('recognise the app page and nothing else', () => {
    expect(isAppUrl(`${appEntryUrl}#x`, appEntryUrl)).toBe(true);
    expect(isAppUrl('app://workbench/other.html', appEntryUrl)).toBe(false);
    expect(isAppUrl('app://evil/index.html', appEntryUrl)).toBe(false);
    expect(isAppUrl('file:///etc/passwd', appEntryUrl)).toBe(false);
    expect(isAppUrl('https://example.com/index.html', appEntryUrl)).toBe(false);
    const file = 'file:///opt/rw/out/renderer/index.html';
    expect(isAppUrl('file:///opt/rw/out/renderer/index.html#x', file)).toBe(true);
  });

  it('let the page load only its own files and inline data', () => {
    expect(isAllowedRequest('app://workbench/assets/index-1.js', appOrigin)).toBe(true);
    expect(isAllowedRequest('data:image/png;base64,AAAA', appOrigin)).toBe(true);
    expect(isAllowedRequest('devtools://devtools/bundled/inspector.html', appOrigin)).toBe(true);
    for (const url of ['https://evil.example/x.js', 'http://127.0.0.1:8080/api', 'file:///etc/passwd', 'app://other/x.js', 'ws://127.0.0.1:1/', 'nonsense']) {
      expect(isAllowedRequest(url, appOrigin), url).toBe(false);
    }
  });

  it('let a team server’s client load that server’s pages and requests, and nothing else', () => {
    const origin = 'https://workbench.example:8443';
    for (const url of [`${origin}/`, `${origin}/exceptions?x=1#y`, `${origin}/auth/mode`]) expect(isTeamServerUrl(url, origin), url).toBe(true);
    for (const url of [
      'https://workbench.example/',
      'https://workbench.example:8444/',
      'http://workbench.example:8443/',
      'https://evil.example:8443/',
      'https://workbench.example.evil.example:8443/',
      'https://user:pw@workbench.example:8443/',
      appEntryUrl,
      'file:///etc/passwd',
      'nonsense',
    ]) {
      expect(isTeamServerUrl(url, origin), url).toBe(false);
    }
    expect(isAllowedRequest(`${origin}/api/returns.list`, origin)).toBe(true);
    expect(isAllowedRequest(`${origin}/api/events`, origin)).toBe(true);
    for (const url of ['https://workbench.example:8444/api', 'app://workbench/index.html', 'https://evil.example/x.js', 'ws://workbench.example:8443/']) {
      expect(isAllowedRequest(url, origin), url).toBe(false);
    }
  });
});
