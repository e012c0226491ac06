import { useEffect, useState } from 'react';
import type { SettingsView } from '../../../../core/contract';
import { useSettingsStore, type FieldErrors } from './store';

interface Draft {
  miraklBaseUrl: string;
  miraklShopId: string;
  miraklApiKey: string;
  reboundBaseUrl: string;
  reboundClientId: string;
  reboundFlowKey: string;
  reboundClientSecret: string;
}

const fromSettings = (s: SettingsView): Draft => ({
  miraklBaseUrl: s.connections.mirakl.baseUrl ?? '',
  miraklShopId: s.connections.mirakl.shopId === null ? '' : String(s.connections.mirakl.shopId),
  miraklApiKey: '',
  reboundBaseUrl: s.connections.rebound.baseUrl ?? '',
  reboundClientId: s.connections.rebound.clientId ?? '',
  reboundFlowKey: s.connections.rebound.flowKey ?? '',
  reboundClientSecret: '',
});

type TestResult = { ok: boolean; message: string; status?: number };

/** Connections to Mirakl and ReBound. Secrets are write-only: typed here, kept in the keychain, never shown back. */
export function ConnectionsForm({ settings }: { settings: SettingsView }) {
  const { saveConnections, testConnection } = useSettingsStore();
  const [draft, setDraft] = useState<Draft>(() => fromSettings(settings));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [tests, setTests] = useState<Partial<Record<'mirakl' | 'rebound', TestResult | 'testing'>>>({});
  const [isSaving, setSaving] = useState(false);
  useEffect(() => setDraft(fromSettings(settings)), [settings]);

  const shopId = draft.miraklShopId.trim() === '' ? undefined : Number(draft.miraklShopId);
  const field = (key: keyof Draft, path: string, label: string, options: { type?: string; placeholder?: string; hint?: string } = {}) => {
    const error = errors[path];
    const id = `conn-${key}`;
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input
          id={id}
          type={options.type ?? 'text'}
          value={draft[key]}
          placeholder={options.placeholder}
          autoComplete={options.type === 'password' ? 'new-password' : 'off'}
          aria-invalid={Boolean(error)}
          aria-describedby={[error ? `${id}-error` : '', options.hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined}
          onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        />
        {options.hint && (
          <div id={`${id}-hint`} className="muted small-text">
            {options.hint}
          </div>
        )}
        {error && (
          <div id={`${id}-error`} className="field-error" role="alert">
            {error}
          </div>
        )}
      </div>
    );
  };
  const secretHint = (isSet: boolean) =>
    isSet
      ? 'Stored in the keychain and sent only to the saved address. Type a new value to replace it, or to test another address; leave empty to keep it.'
      : 'Typed here, stored only in the keychain, never shown again.';

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (shopId !== undefined && !Number.isInteger(shopId)) return setErrors({ 'mirakl.shopId': 'the shop id is a whole number' });
    setSaving(true);
    const secrets = {
      ...(draft.miraklApiKey.trim() ? { miraklApiKey: draft.miraklApiKey } : {}),
      ...(draft.reboundClientSecret.trim() ? { reboundClientSecret: draft.reboundClientSecret } : {}),
    };
    const result = await saveConnections({
      mirakl: { baseUrl: draft.miraklBaseUrl, ...(shopId !== undefined ? { shopId } : {}) },
      rebound: { baseUrl: draft.reboundBaseUrl, clientId: draft.reboundClientId, ...(draft.reboundFlowKey.trim() ? { flowKey: draft.reboundFlowKey } : {}) },
      ...(Object.keys(secrets).length ? { secrets } : {}),
    });
    setSaving(false);
    setErrors(result ?? {});
    // The typed secrets are gone from the page once stored.
    if (!result) setDraft((d) => ({ ...d, miraklApiKey: '', reboundClientSecret: '' }));
  };

  const test = async (system: 'mirakl' | 'rebound') => {
    setTests((t) => ({ ...t, [system]: 'testing' }));
    const typed = (value: string) => (value.trim() ? value.trim() : undefined);
    const input =
      system === 'mirakl'
        ? { system, baseUrl: typed(draft.miraklBaseUrl), shopId: Number.isInteger(shopId) ? shopId : undefined, apiKey: typed(draft.miraklApiKey) }
        : { system, baseUrl: typed(draft.reboundBaseUrl), clientId: typed(draft.reboundClientId), clientSecret: typed(draft.reboundClientSecret) };
    const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as typeof input;
    const result = await testConnection(clean);
    setTests((t) => ({ ...t, [system]: result }));
  };

  const testLine = (system: 'mirakl' | 'rebound') => {
    const t = tests[system];
    if (!t) return null;
    if (t === 'testing') return <p className="muted" role="status">Testing…</p>;
    return (
      <p className={t.ok ? 'ok' : 'error'} role={t.ok ? 'status' : 'alert'} data-testid={`test-${system}`}>
        {t.ok ? 'Connected: ' : 'Failed: '}
        {t.message}
        {t.status ? ` (HTTP ${t.status})` : ''}
      </p>
    );
  };

  return (
    <form className="stack connections" onSubmit={(e) => void submit(e)} aria-label="Connections" noValidate>
      {!settings.keychain.available && (
        <p className="error" role="alert">
          The keychain is not available, so secrets cannot be stored: {settings.keychain.message}
        </p>
      )}
      <p className="muted">
        Currently in <strong>{settings.mode === 'sandbox' ? 'Sandbox' : 'Live'}</strong> mode. The app runs live once both connections and both secrets are
        set.
      </p>
      <p className="muted" data-testid="connections-rules">
        Addresses must start with <strong>https://</strong>; plain http is accepted only for this machine (127.0.0.1 or localhost, where the sandbox
        runs). Test connection uses a stored secret only with the saved address: to test another address, type its key or secret here.
      </p>
      {errors[''] && (
        <p className="error" role="alert">
          {errors['']}
        </p>
      )}
      <fieldset>
        <legend>ASOS Marketplace (Mirakl)</legend>
        {field('miraklBaseUrl', 'mirakl.baseUrl', 'Instance URL', { placeholder: 'https://your-instance.mirakl.net', hint: 'https only (http just for 127.0.0.1 or localhost).' })}
        {field('miraklShopId', 'mirakl.shopId', 'Shop id', { placeholder: 'e.g. 2001' })}
        {field('miraklApiKey', 'secrets.miraklApiKey', 'API key', {
          type: 'password',
          placeholder: settings.secrets.miraklApiKey ? 'set — type to replace' : 'not set',
          hint: secretHint(settings.secrets.miraklApiKey),
        })}
        <span className={`badge ${settings.secrets.miraklApiKey ? 'badge-ok' : 'badge-warn'}`} data-testid="secret-mirakl">
          API key {settings.secrets.miraklApiKey ? 'set' : 'not set'}
        </span>
        <div className="row-actions">
          <button type="button" onClick={() => void test('mirakl')}>
            Test Mirakl connection
          </button>
        </div>
        {testLine('mirakl')}
      </fieldset>
      <fieldset>
        <legend>ReBound</legend>
        {field('reboundBaseUrl', 'rebound.baseUrl', 'Base URL', { placeholder: 'https://api.rebound…', hint: 'https only (http just for 127.0.0.1 or localhost).' })}
        {field('reboundClientId', 'rebound.clientId', 'Client id')}
        {field('reboundFlowKey', 'rebound.flowKey', 'Flow key', { hint: 'Optional: the ReBound flow returns are created in.' })}
        {field('reboundClientSecret', 'secrets.reboundClientSecret', 'Client secret', {
          type: 'password',
          placeholder: settings.secrets.reboundClientSecret ? 'set — type to replace' : 'not set',
          hint: secretHint(settings.secrets.reboundClientSecret),
        })}
        <span className={`badge ${settings.secrets.reboundClientSecret ? 'badge-ok' : 'badge-warn'}`} data-testid="secret-rebound">
          Client secret {settings.secrets.reboundClientSecret ? 'set' : 'not set'}
        </span>
        <div className="row-actions">
          <button type="button" onClick={() => void test('rebound')}>
            Test ReBound connection
          </button>
        </div>
        {testLine('rebound')}
      </fieldset>
      <div className="row-actions">
        <button type="submit" className="primary" disabled={isSaving}>
          {isSaving ? 'Saving…' : 'Save connections'}
        </button>
      </div>
    </form>
  );
}
