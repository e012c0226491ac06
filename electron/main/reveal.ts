import type { Dispatch } from '../../core/app/dispatch';

// "Show in folder" for an exported file (issue 24). The core decides which file it is and whether it may be handed out
// (reports.file: a regular file inside the data folder's reports folder, links resolved); main, the one process that
// may open the desktop's file manager, then shows that file — the path the core answered, never the one asked for.

export function revealingDispatch(dispatch: Dispatch, showItemInFolder: (path: string) => void): Dispatch {
  return async (command, input) => {
    const result = await dispatch(command, input);
    if (command === 'reports.file' && result.ok && (input as { reveal?: unknown } | null)?.reveal === true) {
      showItemInFolder((result.data as { path: string }).path);
    }
    return result;
  };
}
