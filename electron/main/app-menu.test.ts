import { describe, expect, it, vi } from 'vitest';
import { appMenuTemplate } from './app-menu';

// The application menu in each state: opening a bundle is always offered, going back only while a bundle is shown.

describe('application menu', () => {
  const fileItems = (bundleFile: string | null, handlers = { openBundle: vi.fn(), backToOwnData: vi.fn() }) => {
    const file = appMenuTemplate({ bundleFile, isMac: false, ...handlers }).find((m) => m.label === 'File');
    return (file?.submenu ?? []) as { id?: string; enabled?: boolean; click?: () => void; role?: string }[];
  };

  it('offers Open Evidence Bundle… always, and Back to My Data only while a bundle is shown', () => {
    expect(fileItems(null).find((i) => i.id === 'open-bundle')?.enabled).toBeUndefined();
    expect(fileItems(null).find((i) => i.id === 'own-data')?.enabled).toBe(false);
    expect(fileItems('/tmp/returns-evidence-2026-10.zip').find((i) => i.id === 'own-data')?.enabled).toBe(true);
  });

  it('routes the clicks to main’s handlers', () => {
    const handlers = { openBundle: vi.fn(), backToOwnData: vi.fn() };
    const items = fileItems('/tmp/b.zip', handlers);
    items.find((i) => i.id === 'open-bundle')?.click?.();
    items.find((i) => i.id === 'own-data')?.click?.();
    expect(handlers.openBundle).toHaveBeenCalledOnce();
    expect(handlers.backToOwnData).toHaveBeenCalledOnce();
  });

  it('keeps the platform’s own menus: the app menu on macOS, quit in File elsewhere', () => {
    const mac = appMenuTemplate({ bundleFile: null, isMac: true, openBundle: vi.fn(), backToOwnData: vi.fn() });
    expect(mac[0]).toEqual({ role: 'appMenu' });
    expect(fileItems(null).some((i) => i.role === 'quit')).toBe(true);
  });

  it('offers a team server’s client only to disconnect: no evidence bundles without data of its own', () => {
    const disconnect = vi.fn();
    const template = appMenuTemplate({ bundleFile: null, isMac: false, openBundle: vi.fn(), backToOwnData: vi.fn(), teamServer: 'https://workbench.example:8443', disconnect });
    const items = (template.find((m) => m.label === 'File')?.submenu ?? []) as { id?: string; label?: string; enabled?: boolean; click?: () => void; role?: string }[];
    expect(items.map((i) => i.id ?? i.role ?? 'separator')).toEqual(['team-server', 'disconnect', 'separator', 'quit']);
    expect(items[0]).toMatchObject({ label: 'Connected to https://workbench.example:8443', enabled: false });
    expect(items[1]?.label).toBe('Disconnect (use this computer alone)');
    items[1]?.click?.();
    expect(disconnect).toHaveBeenCalledOnce();
  });
});
