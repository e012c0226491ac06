// What a team server's client tells the person when it cannot go on as it is: its config is broken, the server cannot
// be reached, or they asked to disconnect. Pure data (Electron's message box options plus which button does what), so
// the wording and the choices are tested under Node. The certificate-changed dialog is in certificate-pin.ts.

export function brokenConfigDialog(file: string, problem: string) {
  return {
    type: 'error' as const,
    title: 'Returns Workbench',
    message: 'The team server settings cannot be read',
    detail: [
      `${file}: ${problem}.`,
      '',
      'This computer was set to work as a team server’s client. “Work alone” moves the file aside (it is kept, renamed) and starts this computer on its own data and sync, as before it connected; connect again in Settings. Or quit and mend the file.',
    ].join('\n'),
    buttons: ['Work alone', 'Quit'],
    defaultId: 1,
    cancelId: 1,
    workAloneButton: 0,
  };
}

export function unreachableDialog(origin: string, reason: string) {
  return {
    type: 'warning' as const,
    title: 'Returns Workbench',
    message: 'The team server cannot be reached',
    detail: `${origin} did not answer (${reason}). Check the network, or ask your team’s admin whether the server is running.\n\nThis computer runs no sync of its own while it is connected: nothing is lost while the server is away.`,
    buttons: ['Try again', 'Disconnect (use this computer alone)', 'Quit'],
    defaultId: 0,
    cancelId: 2,
    retryButton: 0,
    disconnectButton: 1,
  };
}

export function disconnectDialog(origin: string) {
  return {
    type: 'question' as const,
    title: 'Returns Workbench',
    message: `Disconnect from ${origin}?`,
    detail:
      'Returns Workbench restarts on this computer alone: its own database and its own sync, in Sandbox mode unless Live credentials are set here. Your work on the team server stays there; connect again from Settings › Connect to a team server.',
    buttons: ['Disconnect', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    disconnectButton: 0,
  };
}
