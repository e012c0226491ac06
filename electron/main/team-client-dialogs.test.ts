import { describe, expect, it } from 'vitest';
import { brokenConfigDialog, disconnectDialog, unreachableDialog } from './team-client-dialogs';

// What a team server's client says when it cannot go on as it is, and which button does what.

describe('team client dialogs', () => {
  it('name the broken file and what is wrong in it, and make working alone a choice, never the default', () => {
    const dialog = brokenConfigDialog('/data/team-server.json', 'fingerprint: a SHA-256 fingerprint');
    expect(dialog.detail).toContain('/data/team-server.json: fingerprint: a SHA-256 fingerprint.');
    expect(dialog.detail).toContain('moves the file aside');
    expect(dialog.buttons[dialog.workAloneButton]).toBe('Work alone');
    expect(dialog.defaultId).not.toBe(dialog.workAloneButton);
    expect(dialog.cancelId).not.toBe(dialog.workAloneButton);
  });

  it('offer to try again, disconnect or quit when the server cannot be reached', () => {
    const dialog = unreachableDialog('https://workbench.example:8443', 'ERR_CONNECTION_REFUSED');
    expect(dialog.detail).toContain('https://workbench.example:8443 did not answer (ERR_CONNECTION_REFUSED)');
    expect(dialog.buttons[dialog.retryButton]).toBe('Try again');
    expect(dialog.buttons[dialog.disconnectButton]).toBe('Disconnect (use this computer alone)');
    expect(dialog.buttons[dialog.cancelId]).toBe('Quit');
  });

  it('ask before disconnecting, Cancel by default', () => {
    const dialog = disconnectDialog('https://workbench.example:8443');
    expect(dialog.message).toBe('Disconnect from https://workbench.example:8443?');
    expect(dialog.buttons[dialog.disconnectButton]).toBe('Disconnect');
    expect(dialog.defaultId).toBe(dialog.cancelId);
    expect(dialog.buttons[dialog.cancelId]).toBe('Cancel');
  });
});
