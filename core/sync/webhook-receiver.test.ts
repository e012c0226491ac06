import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oversizedPost } from '../../test/support/http';
import { createFakeClock } from '../adapters/fake-clock';
import { silentLogger } from '../adapters/logger';
import type { EngineContext } from './context';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

// Issue 21, finding 9: the notification receiver's 413 says the connection closes, rather than advertising
// keep-alive and then dropping it under the sender.
describe('webhook receiver: an oversized notification', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    // The body is refused before anything is verified or recorded: the context is never reached.
    receiver = await startWebhookReceiver({ clock: createFakeClock(0), log: silentLogger } as unknown as EngineContext, 'secret');
  });
  afterAll(() => receiver.close());

  it('answers 413 with connection: close', async () => {
    const url = new URL(receiver.url);
    const res = await oversizedPost(Number(url.port), url.pathname, { host: url.host, 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    expect(res.connection).toBe('close');
  });
});
