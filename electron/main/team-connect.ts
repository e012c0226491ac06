import type { Dispatch } from '../../core/app/dispatch';
import type { Input, Output, Result } from '../../core/contract';
import type { TeamServerConfig } from './team-server-config';

// Settings › Connect to a team server (issue 25). The renderer asks with team.connect; main, the one process that may
// change how the desktop starts, answers it itself. It probes the address again and connects only if the server still
// presents the certificate the person compared, and only if this desktop does not sync a shop Live with credentials
// of its own: a team server and this desktop would be two engines refunding and restocking the same shop, and
// disconnecting later would bring this one back. The core never sees team.connect (it would refuse it).

export interface TeamConnectPorts {
  /** Saves the config and relaunches into client mode once the answer has gone back to the window. */
  connect: (config: TeamServerConfig) => void;
  now: () => Date;
}

export function connectingDispatch(dispatch: Dispatch, ports: TeamConnectPorts): Dispatch {
  return async (command, input) => {
    if (command !== 'team.connect') return dispatch(command, input);
    return connect(dispatch, input as Input<'team.connect'>, ports);
  };
}

async function connect(dispatch: Dispatch, input: Input<'team.connect'>, ports: TeamConnectPorts): Promise<Result<Output<'team.connect'>>> {
  const info = await dispatch('app.info', {});
  if (!info.ok) return info;
  const app = info.data as Output<'app.info'>;
  if (app.bundle) return conflict('This window shows an evidence bundle: go back to your own data (File › Back to My Data) before connecting to a team server.');
  if (app.mode === 'live') {
    return conflict(
      'This computer syncs a shop Live with its own Mirakl and ReBound credentials. Connected to a team server it would keep them, and the day it disconnects it would be a second engine refunding and restocking the same shop. The team server holds the shop’s credentials: remove them from this computer’s keychain (entries “mirakl.apiKey” and “rebound.clientSecret” of Returns Workbench) and restart it, then connect.',
    );
  }
  const probed = await dispatch('team.probe', { url: input.url });
  if (!probed.ok) return probed;
  const probe = probed.data as Output<'team.probe'>;
  if (!probe.isTeamServer) return conflict(`${probe.origin} answers over HTTPS but is not a Returns Workbench team server (GET /auth/mode did not say so).`);
  if (probe.fingerprint.toUpperCase() !== input.fingerprint.toUpperCase()) {
    return conflict(
      `${probe.origin} now presents a different certificate (SHA-256 ${probe.fingerprint}) from the one you checked (${input.fingerprint}). Check it again and compare it with what the server printed.`,
    );
  }
  ports.connect({ origin: probe.origin, fingerprint: probe.fingerprint.toUpperCase(), connectedAt: ports.now().toISOString() });
  return { ok: true, data: { origin: probe.origin, relaunching: true } };
}

function conflict(message: string): Result<never> {
  return { ok: false, error: { code: 'CONFLICT', message } };
}
