import { describe, expect, it } from 'vitest';
import { commands } from '../contract';
import { AppError } from '../errors';
import { silentLogger } from '../adapters/logger';
import { makeTestCore } from '../../test/support/core';
import { makeTempDir } from '../../test/support/temp-dir';
import { createDispatch, type Handlers } from './dispatch';

describe('dispatch', () => {
  it('has a handler for every command in the contract and nothing else', async () => {
    const temp = makeTempDir();
    const { core } = await makeTestCore(temp.dir);
    expect(Object.keys(core.handlers).sort()).toEqual(Object.keys(commands).sort());
    core.close();
    temp.remove();
  });

  const baseHandlers = {
    'app.info': async () => {
      throw new AppError('GUARD_BLOCKED', 'Refund blocked: no verified receipt.');
    },
    'sync.status': async () => {
      throw new Error('database is locked at /secret/path');
    },
  } as unknown as Handlers;

  it('turns an AppError into its contract code and message', async () => {
    const result = await createDispatch(baseHandlers, silentLogger)('app.info', {});
    expect(result).toEqual({ ok: false, error: { code: 'GUARD_BLOCKED', message: 'Refund blocked: no verified receipt.' } });
  });

  it('reports any other failure as INTERNAL without leaking its text', async () => {
    const result = await createDispatch(baseHandlers, silentLogger)('sync.status', {});
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('INTERNAL');
      expect(result.error.message).not.toContain('/secret/path');
    }
  });

  it('rejects output that breaks the contract instead of passing it on', async () => {
    const broken = { ...baseHandlers, 'sync.status': async () => ({ state: 'sleeping', feeds: [] }) } as unknown as Handlers;
    const result = await createDispatch(broken, silentLogger)('sync.status', {});
    expect(result.ok === false && result.error.code).toBe('INTERNAL');
  });

  it('names the path of an invalid input', async () => {
    const result = await createDispatch(baseHandlers, silentLogger)('app.info', { verbose: true });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('VALIDATION');
      expect(result.error.message).toMatch(/app\.info/);
    }
  });
});
