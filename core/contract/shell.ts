// A command the app prints for a person to paste into a terminal (`npm run web -- --bundle <file>`): the file's path
// is one argument whatever it holds. The data folder's own path has a space in it on every desktop ("Returns
// Workbench"), so an unquoted path breaks the command in every shell.

/**
 * `text` as one shell argument: in single quotes for POSIX shells (a quote inside as '\''); a Windows path (a drive
 * letter or a backslash) in double quotes, which cmd and PowerShell both read as one argument (Windows forbids " in
 * file names). Plain words are left as they are.
 */
export function shellArgument(text: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(text)) return text;
  if (/^[A-Za-z]:[\\/]|\\/.test(text) && !text.includes('"')) return `"${text}"`;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The command that opens an evidence bundle read-only in a browser tab. */
export function bundleCommand(file: string): string {
  return `npm run web -- --bundle ${shellArgument(file)}`;
}
