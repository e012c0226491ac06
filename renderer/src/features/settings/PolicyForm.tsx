import { useEffect, useState } from 'react';
import { LoadError, Loading } from '../../app/EmptyState';
import { readPolicyCadences } from './mapping-doc';
import { PreviewPanel, usePreview } from './MappingEditor';
import { useSettingsStore, type FieldErrors } from './store';

const cadenceFields = [
  { key: 'returnsPollSeconds', label: 'Mirakl returns (RT11)', floor: 'at least 300 s' },
  { key: 'ordersPollSeconds', label: 'Mirakl orders and refunds (OR11)', floor: 'at least 60 s' },
  { key: 'reboundPollSeconds', label: 'ReBound return orders', floor: 'at least 1 s' },
  { key: 'stockFlushSeconds', label: 'Stock updates sent to Mirakl (STO01)', floor: 'at least 60 s' },
  { key: 'stockStatusSeconds', label: 'Stock import status (STO02)', floor: 'at least 15 s' },
] as const;

/** Polling cadences as a form (Mirakl's published limits are the floors), and the whole policy file as YAML. */
export function PolicyForm() {
  const file = useSettingsStore((s) => s.files?.policy);
  const filesError = useSettingsStore((s) => s.filesError);
  if (filesError) return <LoadError what="the policy" message={filesError.message} />;
  if (!file) return <Loading what="the policy" />;
  return (
    <div className="stack">
      <CadencesForm text={file.text} />
      <PolicyYaml text={file.text} version={file.version} source={file.source} />
    </div>
  );
}

function CadencesForm({ text }: { text: string }) {
  const setCadences = useSettingsStore((s) => s.setCadences);
  const current = readPolicyCadences(text);
  const [values, setValues] = useState<Record<string, string>>({});
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  useEffect(() => {
    const inForce = readPolicyCadences(text);
    setValues(Object.fromEntries(cadenceFields.map((f) => [f.key, String(inForce[f.key] ?? '')])));
  }, [text]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const input: Record<string, number | string> = {};
    const local: FieldErrors = {};
    for (const f of cadenceFields) {
      const raw = values[f.key]?.trim() ?? '';
      const n = Number(raw);
      if (!raw || !Number.isInteger(n)) local[f.key] = 'a whole number of seconds';
      else if (n !== current[f.key]) input[f.key] = n;
    }
    if (Object.keys(local).length) return setErrors(local);
    if (Object.keys(input).length === 0) return setErrors({ '': 'Nothing changed.' });
    const result = await setCadences({ ...input, ...(reason.trim() ? { reason: reason.trim() } : {}) });
    setErrors(result ?? {});
    if (!result) setReason('');
  };

  return (
    <form className="stack card" aria-label="Sync cadences" onSubmit={(e) => void submit(e)} noValidate>
      <h2>Sync cadences</h2>
      <p className="muted small-text">How often each feed runs. Mirakl publishes the fastest it allows; the app never goes below it.</p>
      <div className="grid-form">
        {cadenceFields.map((f) => {
          const error = errors[f.key];
          return (
            <div className="field" key={f.key}>
              <label htmlFor={`cad-${f.key}`}>
                {f.label} <span className="muted">(seconds, {f.floor})</span>
              </label>
              <input
                id={`cad-${f.key}`}
                inputMode="numeric"
                value={values[f.key] ?? ''}
                aria-invalid={Boolean(error)}
                aria-describedby={error ? `cad-${f.key}-error` : undefined}
                onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
              />
              {error && (
                <div id={`cad-${f.key}-error`} className="field-error" role="alert">
                  {error}
                </div>
              )}
            </div>
          );
        })}
      </div>
      {errors[''] && <p className="error">{errors['']}</p>}
      <label>
        Reason (kept in the audit log)
        <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="optional" />
      </label>
      <div>
        <button type="submit" className="primary">
          Save cadences
        </button>
      </div>
    </form>
  );
}

function PolicyYaml({ text, version, source }: { text: string; version: string; source: 'shipped' | 'edited' }) {
  const saveMapping = useSettingsStore((s) => s.saveMapping);
  const [draft, setDraft] = useState(text);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [isSaving, setSaving] = useState(false);
  useEffect(() => setDraft(text), [text]);
  const isDirty = draft !== text;
  const preview = usePreview('policy', draft, isDirty);
  const canSave = isDirty && preview.status === 'done' && preview.result.ok && !isSaving;
  return (
    <section className="stack card" aria-label="Policy file">
      <h2>Policy</h2>
      <p className="muted small-text">
        Refund trigger, shipping refunds, tolerance, sellable grades and time limits. Changing when refunds are sent needs a reason and is audited. In
        force: <code>{version}</code> ({source === 'edited' ? 'edited copy' : 'shipped default'})
      </p>
      <label>
        policy.yaml
        <textarea className="code" rows={16} value={draft} spellCheck={false} onChange={(e) => setDraft(e.target.value)} />
      </label>
      <PreviewPanel state={preview} saveErrors={errors} />
      <div className="toolbar">
        <label className="grow">
          Reason for the change (kept in the audit log)
          <input value={reason} onChange={(e) => setReason(e.target.value)} aria-invalid={Boolean(errors.reason)} />
        </label>
        <button
          type="button"
          className="primary"
          disabled={!canSave}
          onClick={() => {
            setSaving(true);
            void saveMapping({ file: 'policy', text: draft, baseVersion: version, ...(reason.trim() ? { reason: reason.trim() } : {}) }).then((r) => {
              setSaving(false);
              setErrors('errors' in r ? r.errors : {});
              if (!('errors' in r)) setReason('');
            });
          }}
        >
          Save policy
        </button>
        <button type="button" disabled={!isDirty} onClick={() => setDraft(text)}>
          Discard changes
        </button>
      </div>
      {errors.reason && (
        <p className="field-error" role="alert">
          Reason: {errors.reason}
        </p>
      )}
    </section>
  );
}
