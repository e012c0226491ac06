import { describe, expect, it } from 'vitest';
import { isAllowedExternal, isAppUrl } from './navigation';

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
    const app = 'file:///opt/rw/out/renderer/index.html';
    expect(isAppUrl('file:///opt/rw/out/renderer/index.html#x', app)).toBe(true);
    expect(isAppUrl('file:///etc/passwd', app)).toBe(false);
    expect(isAppUrl('https://example.com/index.html', app)).toBe(false);
  });
});
