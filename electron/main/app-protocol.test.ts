import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy as webHostPolicy } from '../../core/host/server';
import { appEntryUrl, appResponseHeaders, desktopContentSecurityPolicy, resolveAppAsset } from './app-protocol';

const rendererDir = '/opt/rw/resources/app.asar/out/renderer';

const directives = (policy: string) =>
  new Map(
    policy.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values.join(' ')] as const;
    }),
  );

describe('the app:// protocol serving the renderer', () => {
  it('serves the entry page and built assets from the renderer folder with their types', () => {
    expect(resolveAppAsset(rendererDir, appEntryUrl)).toEqual({ file: join(rendererDir, 'index.html'), contentType: 'text/html; charset=utf-8' });
    expect(resolveAppAsset(rendererDir, 'app://workbench/')).toMatchObject({ file: join(rendererDir, 'index.html') });
    expect(resolveAppAsset(rendererDir, 'app://workbench/assets/index-Ab12.js?v=1#x')).toEqual({
      file: join(rendererDir, 'assets', 'index-Ab12.js'),
      contentType: 'text/javascript; charset=utf-8',
    });
  });

  it('never reaches a file outside the renderer folder, however the path is spelled', () => {
    for (const url of [
      'app://workbench/%2e%2e/%2e%2e/main/index.js',
      'app://workbench/..%2f..%2fmain%2findex.js',
      'app://workbench/assets/..%2F..%2F..%2Fpackage.json',
      'app://workbench/%2Fetc%2Fpasswd.json',
    ]) {
      const asset = resolveAppAsset(rendererDir, url);
      if ('file' in asset) expect(asset.file.startsWith(rendererDir + '/'), url).toBe(true);
      else expect(asset.status, url).toBeGreaterThanOrEqual(400);
    }
    expect(resolveAppAsset(rendererDir, 'app://workbench/..%5c..%5cmain.js')).toMatchObject({ status: 400 });
    expect(resolveAppAsset(rendererDir, 'app://workbench/index.html%00.js')).toMatchObject({ status: 400 });
    expect(resolveAppAsset(rendererDir, 'app://workbench/%E0%A4%A')).toMatchObject({ status: 400 });
  });

  it('refuses other origins and file types it does not serve', () => {
    expect(resolveAppAsset(rendererDir, 'app://elsewhere/index.html')).toMatchObject({ status: 403 });
    expect(resolveAppAsset(rendererDir, 'file:///opt/rw/resources/app.asar/out/renderer/index.html')).toMatchObject({ status: 403 });
    expect(resolveAppAsset(rendererDir, 'app://workbench/better_sqlite3.node')).toMatchObject({ status: 404 });
    expect(resolveAppAsset(rendererDir, 'not a url')).toMatchObject({ status: 400 });
  });

  it('sends a CSP at least as strict as the web host, with no network access for the page', () => {
    const desktop = directives(desktopContentSecurityPolicy);
    const web = directives(webHostPolicy);
    expect(desktop.get('default-src')).toBe("'none'");
    expect(desktop.get('script-src')).toBe("'self'");
    expect(desktop.get('connect-src')).toBe("'none'");
    expect(desktop.get('object-src')).toBe("'none'");
    expect(desktop.get('frame-ancestors')).toBe("'none'");
    expect(desktop.get('base-uri')).toBe("'none'");
    expect(desktopContentSecurityPolicy).not.toMatch(/unsafe-eval/);
    // Every source the desktop allows, the web host allows too.
    for (const [name, value] of desktop) {
      if (value === "'none'") continue;
      expect(web.get(name) ?? web.get('default-src'), name).toBe(value);
    }
    expect(appResponseHeaders('text/html')).toMatchObject({ 'content-security-policy': desktopContentSecurityPolicy, 'x-content-type-options': 'nosniff' });
  });
});
