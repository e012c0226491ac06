import { useEffect, useMemo } from 'react';
import { transportKind } from '../../api/transport';
import { LoadError, Loading } from '../../app/EmptyState';
import { formatDateTime } from '../../app/format';
import { ConnectionsForm } from './ConnectionsForm';
import { reasonSpec, RowsMappingEditor, skuSpec, type CellChoices } from './MappingEditor';
import { PersonForm } from './PersonForm';
import { PolicyForm } from './PolicyForm';
import { TeamServerForm } from './TeamServerForm';
import { settingsTabs, useSettingsStore } from './store';

export function SettingsPage() {
  const { tab, setTab, settings, settingsError, load } = useSettingsStore();
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <>
      <h1>Settings</h1>
      <div role="tablist" aria-label="Settings" className="tabs">
        {settingsTabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            className={tab === t.id ? 'tab active' : 'tab'}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === 'connections' && (
          <>
            {settingsError && <LoadError what="the settings" message={settingsError.message} onRetry={() => void load()} />}
            {!settings && !settingsError && <Loading what="the settings" />}
            {settings?.person && <PersonForm person={settings.person} />}
            {settings && <ConnectionsForm settings={settings} />}
            {/* Connecting is the desktop's: in a browser (this machine's or a team server's page) there is nothing to connect. */}
            {settings?.person && transportKind === 'electron' && <TeamServerForm settings={settings} />}
          </>
        )}
        {tab === 'policy' && <PolicyForm />}
        {tab === 'reasons' && (
          <>
            <p className="muted">
              How each Mirakl return reason is shown to ReBound’s hub, and which Mirakl refund reason its refund carries. A reason not listed holds its
              return with an “unmapped reason” exception until it is added here.
            </p>
            <ReasonMappings />
          </>
        )}
        {tab === 'skus' && (
          <>
            <p className="muted">
              By default a sellable unit goes back on the offer its order line sold. List an override only when another offer should get it, or none.
            </p>
            <RowsMappingEditor spec={skuSpec} />
          </>
        )}
      </div>
    </>
  );
}

/** The reason mapping, with Mirakl's own return and refund reasons (RE01) to pick from, by code and label. */
function ReasonMappings() {
  const reasons = useSettingsStore((s) => s.reasons);
  const isReading = useSettingsStore((s) => s.isReadingReasons);
  const loadReasons = useSettingsStore((s) => s.loadReasons);
  useEffect(() => {
    void loadReasons();
  }, [loadReasons]);
  const choices = useMemo((): Partial<Record<string, CellChoices>> => {
    if (!reasons) return {};
    const returns: CellChoices = {
      mode: 'suggest',
      options: reasons.returns.map((r) => ({
        value: r.code,
        label: `${r.label}${r.source === 'mirakl' ? ' (Mirakl)' : ''}${r.returnLines ? `, on ${r.returnLines} return line${r.returnLines === 1 ? '' : 's'}` : ''}`,
      })),
    };
    if (reasons.readAt === null) return { mirakl: returns };
    const refund: CellChoices = {
      mode: 'pick',
      prompt: 'Pick a Mirakl refund reason…',
      options: reasons.refund.map((r) => ({ value: r.code, label: `${r.code} — ${r.label}${r.isShopRight ? '' : ' (operator only)'}`, isDisabled: !r.isShopRight })),
    };
    return { mirakl: returns, refund };
  }, [reasons]);
  return (
    <>
      <p className="muted small-text" data-testid="reason-lists">
        {reasons?.readAt ? `Mirakl’s reasons as read on ${formatDateTime(reasons.readAt)}.` : 'Mirakl’s reasons have not been read yet: refund reasons are typed, and not checked.'}
        {reasons?.problem ? ` ${reasons.problem}` : ''}{' '}
        <button type="button" className="link" disabled={isReading} onClick={() => void loadReasons(true)}>
          {isReading ? 'Reading…' : 'Read them from Mirakl now'}
        </button>
      </p>
      <RowsMappingEditor spec={reasonSpec} choices={choices} />
    </>
  );
}
