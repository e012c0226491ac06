import { createKeytarSecretStore } from '../../core/adapters/keytar-secrets';

// Run by core/adapters/keytar-secrets.test.ts in a process of its own (inside a private D-Bus session, or with no
// session bus at all): sets, reads and deletes one credential through the real keytar-backed SecretStore and prints
// what happened as one JSON line.

const service = process.argv[2] ?? 'Returns Workbench (test)';
const secret = process.argv[3] ?? 'not-a-real-secret';
const store = createKeytarSecretStore(service);

async function main(): Promise<Record<string, unknown>> {
  try {
    await store.set('mirakl.apiKey', secret);
    const read = await store.get('mirakl.apiKey');
    const deleted = await store.delete('mirakl.apiKey');
    const afterDelete = await store.get('mirakl.apiKey');
    const deletedAgain = await store.delete('mirakl.apiKey');
    return { read, deleted, afterDelete, deletedAgain };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

main().then((result) => process.stdout.write(JSON.stringify(result) + '\n'));
