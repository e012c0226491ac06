import { useEffect, useMemo, useState } from 'react';
import type { MappingFileName, MappingsPreview } from '../../../../core/contract';
import { LoadError, Loading } from '../../app/EmptyState';
import { formatMoney } from '../../app/format';
import { inFileOrder, readRows, writeRows, type Row } from './mapping-doc';
import { useSettingsStore, type FieldErrors } from './store';

// An editor for one mapping file: a table of its entries (or the YAML itself), checked by the contract as it is
// edited — each problem shown at the field it names — with how many stored records the change would touch, shown
// before anything is saved.

export type Values = Record<string, string>;

export interface ColumnSpec {
  key: string;
  label: string;
  placeholder?: string;
  options?: { value: string; label: string }[];
  isDisabled?(row: Values): boolean;
}

/** What a cell may hold, from outside the file (Mirakl's own lists): picked from, or suggested while typing. */
export interface CellChoices {
  /** `pick`: a select of these values (a value not among them is shown, flagged); `suggest`: text with suggestions. */
  mode: 'pick' | 'suggest';
  options: { value: string; label: string; isDisabled?: boolean }[];
  /** The first option of a pick while the cell is empty. */
  prompt?: string;
}

export interface RowsSpec {
  file: MappingFileName;
  /** The list inside the file: `reasons` or `overrides`. */
  listKey: string;
  noun: string;
  columns: ColumnSpec[];
  toRow(item: unknown): Values;
  toItem(row: Values): Record<string, unknown>;
  empty: Values;
}

type PreviewState = { status: 'idle' } | { status: 'checking' } | { status: 'done'; result: MappingsPreview };

/** Checks a draft with mappings.preview shortly after each edit. */
export function usePreview(file: MappingFileName, text: string, isDirty: boolean): PreviewState {
  const preview = useSettingsStore((s) => s.preview);
  const [state, setState] = useState<PreviewState>({ status: 'idle' });
  useEffect(() => {
    if (!isDirty) {
      setState({ status: 'idle' });
      return;
    }
    setState({ status: 'checking' });
    let isCurrent = true;
    const timer = setTimeout(() => {
      void preview(file, text).then((result) => isCurrent && setState({ status: 'done', result }));
    }, 350);
    return () => {
      isCurrent = false;
      clearTimeout(timer);
    };
  }, [file, text, isDirty, preview]);
  return state;
}

export function PreviewPanel({ state, saveErrors }: { state: PreviewState; saveErrors: FieldErrors }) {
  const general = Object.entries(saveErrors).filter(([path]) => !/\[\d+\]/.test(path));
  return (
    <div className="preview" role="status" aria-live="polite" aria-label="What this change affects">
      {state.status === 'idle' && general.length === 0 && <p className="muted">No change yet. Edits are checked as you type.</p>}
      {state.status === 'checking' && <p className="muted">Checking the change…</p>}
      {state.status === 'done' && state.result.ok && (
        <>
          <p>
            <strong>The change is valid.</strong> Saving it would affect:
          </p>
          <ul data-testid="preview-affected">
            {state.result.affected.map((a) => (
              <li key={a.description}>
                <strong>{a.count}</strong> — {a.description}
                {a.returns && a.returns.total > 0 && (
                  <div className="muted small-text" data-testid="preview-returns">
                    {a.returns.total} return{a.returns.total === 1 ? '' : 's'}: {a.returns.sample.join(', ')}
                    {a.returns.total > a.returns.sample.length ? ` and ${a.returns.total - a.returns.sample.length} more` : ''}
                  </div>
                )}
                {a.money && a.money.length > 0 && (
                  <div className="muted small-text" data-testid="preview-money">
                    {a.money.map((m) => formatMoney(m.amountMinor, m.currency)).join(' + ')}
                  </div>
                )}
              </li>
            ))}
          </ul>
          {state.result.warnings?.map((w) => (
            <p key={w} className="muted" data-testid="preview-warning">
              {w}
            </p>
          ))}
        </>
      )}
      {state.status === 'done' && !state.result.ok && (
        <>
          <p className="error">
            <strong>The change cannot be saved yet:</strong>
          </p>
          <ul className="error" data-testid="preview-problems">
            {state.result.problems.map((p, i) => (
              <li key={`${p.path}-${i}`}>
                {p.where ?? (p.path ? <code>{p.path}</code> : 'The file')}: {p.message}
              </li>
            ))}
          </ul>
        </>
      )}
      {general.map(([path, message]) => (
        <p key={path} className="error" role="alert">
          {path && path !== '(top level)' ? <code>{path}</code> : null} {message}
        </p>
      ))}
    </div>
  );
}

/** Problems by path from the preview or the save: `reasons[2].refund` → that cell; `reasons[2]` → the row. */
function problemsByPath(state: PreviewState, saveErrors: FieldErrors): FieldErrors {
  const out: FieldErrors = { ...saveErrors };
  if (state.status === 'done' && !state.result.ok) for (const p of state.result.problems) out[p.path] = out[p.path] ? `${out[p.path]}; ${p.message}` : p.message;
  return out;
}

export function RowsMappingEditor({ spec, choices = {} }: { spec: RowsSpec; choices?: Partial<Record<string, CellChoices>> }) {
  const file = useSettingsStore((s) => s.files?.[spec.file]);
  const filesError = useSettingsStore((s) => s.filesError);
  const saveMapping = useSettingsStore((s) => s.saveMapping);
  const [mode, setMode] = useState<'table' | 'yaml'>('table');
  const [baseText, setBaseText] = useState<string | null>(null);
  const [rows, setRows] = useState<Row<Values>[]>([]);
  const [rawText, setRawText] = useState('');
  const [reason, setReason] = useState('');
  const [saveErrors, setSaveErrors] = useState<FieldErrors>({});
  const [isSaving, setSaving] = useState(false);
  const [filter, setFilter] = useState('');

  // A new version in force (loaded, or just saved): start again from it.
  useEffect(() => {
    if (!file) return;
    setBaseText(file.text);
    setRows(readRows(file.text, spec.listKey, spec.toRow).rows);
    setRawText(file.text);
    setSaveErrors({});
  }, [file, spec]);

  const parsed = useMemo(() => (baseText === null ? null : readRows(baseText, spec.listKey, spec.toRow)), [baseText, spec]);
  const rowsDirty = useMemo(
    () => parsed !== null && JSON.stringify(rows.map((r) => [r.origin, spec.toItem(r.value)])) !== JSON.stringify(parsed.rows.map((r) => [r.origin, spec.toItem(r.value)])),
    [rows, parsed, spec],
  );
  const draft = useMemo(() => {
    if (!file || baseText === null) return '';
    if (mode === 'yaml') return rawText;
    return rowsDirty ? writeRows(baseText, spec.listKey, rows, spec.toItem) : baseText;
  }, [file, baseText, mode, rawText, rowsDirty, rows, spec]);
  const isDirty = Boolean(file) && draft !== file?.text;
  const preview = usePreview(spec.file, draft, isDirty);
  const problems = problemsByPath(preview, saveErrors);
  const canSave = isDirty && preview.status === 'done' && preview.result.ok && !isSaving;

  if (filesError) return <LoadError what="the mapping files" message={filesError.message} />;
  if (!file || !parsed) return <Loading what="the mapping" />;

  const update = (index: number, key: string, value: string) => {
    setSaveErrors({});
    setRows(rows.map((r, i) => (i === index ? { ...r, value: { ...r.value, [key]: value } } : r)));
  };
  const switchMode = (next: 'table' | 'yaml') => {
    if (next === 'yaml') setRawText(draft);
    else {
      const read = readRows(rawText, spec.listKey, spec.toRow);
      if (read.error) {
        setSaveErrors({ '': `The YAML must parse before it can be shown as a table: ${read.error}` });
        return;
      }
      setBaseText(rawText);
      setRows(read.rows);
    }
    setMode(next);
  };
  const save = async () => {
    setSaving(true);
    const result = await saveMapping({ file: spec.file, text: draft, baseVersion: file.version, ...(reason.trim() ? { reason: reason.trim() } : {}) });
    setSaving(false);
    if ('errors' in result) setSaveErrors(result.errors);
    else setReason('');
  };
  const shown = inFileOrder(rows);
  const needle = filter.trim().toLowerCase();

  return (
    <div className="stack" data-testid={`mapping-${spec.file}`}>
      <p className="muted small-text">
        In force: <code>{file.version}</code> ({file.source === 'edited' ? 'edited copy in the data folder' : 'shipped default'})
      </p>
      <div className="toolbar" role="group" aria-label="Editor mode">
        <button type="button" aria-pressed={mode === 'table'} onClick={() => switchMode('table')}>
          Table
        </button>
        <button type="button" aria-pressed={mode === 'yaml'} onClick={() => switchMode('yaml')}>
          YAML
        </button>
        {mode === 'table' && (
          <label>
            Find
            <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder={`filter ${spec.noun}s`} />
          </label>
        )}
      </div>
      {mode === 'table' ? (
        <table className="editor-table" aria-label={`${spec.noun}s`}>
          <thead>
            <tr>
              <th scope="col">#</th>
              {spec.columns.map((c) => (
                <th key={c.key} scope="col">
                  {c.label}
                </th>
              ))}
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row, index) => {
              const at = rows.indexOf(row);
              const rowPath = `${spec.listKey}[${index}]`;
              if (needle && !Object.values(row.value).some((v) => v.toLowerCase().includes(needle)) && !Object.keys(problems).some((p) => p.startsWith(rowPath))) return null;
              return (
                <tr key={row.origin ?? `new-${at}`} className={row.origin === null ? 'added' : undefined}>
                  <td className="muted">{index + 1}</td>
                  {spec.columns.map((c) => {
                    const error = problems[`${rowPath}.${c.key}`];
                    const id = `${spec.file}-${index}-${c.key}`;
                    const label = `${c.label}, row ${index + 1}`;
                    const disabled = c.isDisabled?.(row.value) ?? false;
                    const choice = choices[c.key];
                    const value = row.value[c.key] ?? '';
                    return (
                      <td key={c.key}>
                        {choice?.mode === 'pick' ? (
                          <select
                            id={id}
                            aria-label={label}
                            value={value}
                            aria-invalid={Boolean(error)}
                            aria-describedby={error ? `${id}-error` : undefined}
                            onChange={(e) => update(at, c.key, e.target.value)}
                          >
                            {value === '' && <option value="">{choice.prompt ?? 'Pick one…'}</option>}
                            {value !== '' && !choice.options.some((o) => o.value === value) && <option value={value}>{value} — not in Mirakl’s list</option>}
                            {choice.options.map((o) => (
                              <option key={o.value} value={o.value} disabled={o.isDisabled}>
                                {o.label}
                              </option>
                            ))}
                          </select>
                        ) : c.options ? (
                          <select id={id} aria-label={label} value={row.value[c.key] ?? ''} onChange={(e) => update(at, c.key, e.target.value)}>
                            {c.options.map((o) => (
                              <option key={o.value} value={o.value}>
                                {o.label}
                              </option>
                            ))}
                          </select>
                        ) : (
                          <input
                            id={id}
                            aria-label={label}
                            value={value}
                            placeholder={c.placeholder}
                            disabled={disabled}
                            list={choice?.mode === 'suggest' ? `${spec.file}-${c.key}-choices` : undefined}
                            aria-invalid={Boolean(error)}
                            aria-describedby={error ? `${id}-error` : undefined}
                            onChange={(e) => update(at, c.key, e.target.value)}
                          />
                        )}
                        {error && (
                          <div id={`${id}-error`} className="field-error" role="alert">
                            {error}
                          </div>
                        )}
                      </td>
                    );
                  })}
                  <td>
                    <button type="button" className="link" aria-label={`Remove row ${index + 1}`} onClick={() => setRows(rows.filter((r) => r !== row))}>
                      Remove
                    </button>
                    {problems[rowPath] && (
                      <div className="field-error" role="alert">
                        {problems[rowPath]}
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <label>
          YAML
          <textarea className="code" value={rawText} onChange={(e) => setRawText(e.target.value)} rows={18} spellCheck={false} />
        </label>
      )}
      {Object.entries(choices).map(([key, choice]) =>
        choice?.mode === 'suggest' ? (
          <datalist key={key} id={`${spec.file}-${key}-choices`}>
            {choice.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </datalist>
        ) : null,
      )}
      {mode === 'table' && (
        <div>
          <button type="button" onClick={() => setRows([...rows, { origin: null, value: { ...spec.empty } }])}>
            Add {spec.noun}
          </button>
        </div>
      )}
      <PreviewPanel state={preview} saveErrors={saveErrors} />
      <div className="toolbar">
        <label className="grow">
          Reason for the change (kept in the audit log)
          <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="optional" />
        </label>
        <button type="button" className="primary" disabled={!canSave} onClick={() => void save()}>
          {isSaving ? 'Saving…' : 'Save mapping'}
        </button>
        <button
          type="button"
          disabled={!isDirty}
          onClick={() => {
            setBaseText(file.text);
            setRows(readRows(file.text, spec.listKey, spec.toRow).rows);
            setRawText(file.text);
            setSaveErrors({});
          }}
        >
          Discard changes
        </button>
      </div>
    </div>
  );
}

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

export const reasonSpec: RowsSpec = {
  file: 'reasonCodes',
  listKey: 'reasons',
  noun: 'reason',
  columns: [
    { key: 'mirakl', label: 'Mirakl return reason', placeholder: 'RETURN_…' },
    { key: 'rebound', label: 'ReBound reason text', placeholder: 'shown at the hub' },
    { key: 'refund', label: 'Mirakl refund reason', placeholder: 'e.g. 11' },
  ],
  toRow: (item) => {
    const r = (item ?? {}) as Record<string, unknown>;
    return { mirakl: text(r.mirakl), rebound: text(r.rebound), refund: text(r.refund) };
  },
  toItem: (row) => ({ mirakl: row.mirakl?.trim() ?? '', rebound: row.rebound?.trim() ?? '', refund: row.refund?.trim() ?? '' }),
  empty: { mirakl: '', rebound: '', refund: '' },
};

export const skuSpec: RowsSpec = {
  file: 'skuOffers',
  listKey: 'overrides',
  noun: 'override',
  columns: [
    { key: 'orderSku', label: 'Returned SKU', placeholder: 'SKU sold on the order line' },
    {
      key: 'target',
      label: 'Restock',
      options: [
        { value: 'offer', label: 'on this offer' },
        { value: 'none', label: 'never (not resold)' },
      ],
    },
    { key: 'offerSku', label: 'Mirakl offer SKU', placeholder: 'offer-sku', isDisabled: (row) => row.target === 'none' },
  ],
  toRow: (item) => {
    const r = (item ?? {}) as Record<string, unknown>;
    return { orderSku: text(r.orderSku), target: r.restock === false ? 'none' : 'offer', offerSku: text(r.offerSku) };
  },
  toItem: (row) => (row.target === 'none' ? { orderSku: row.orderSku?.trim() ?? '', restock: false } : { orderSku: row.orderSku?.trim() ?? '', offerSku: row.offerSku?.trim() ?? '' }),
  empty: { orderSku: '', target: 'offer', offerSku: '' },
};
