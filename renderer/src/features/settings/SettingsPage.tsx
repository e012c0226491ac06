import { useEffect } from 'react';
import { LoadError, Loading } from '../../app/EmptyState';
import { ConnectionsForm } from './ConnectionsForm';
import { reasonSpec, RowsMappingEditor, skuSpec } from './MappingEditor';
import { PolicyForm } from './PolicyForm';
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
            {settings && <ConnectionsForm settings={settings} />}
          </>
        )}
        {tab === 'policy' && <PolicyForm />}
        {tab === 'reasons' && (
          <>
            <p className="muted">
              How each Mirakl return reason is shown to ReBound’s hub, and which Mirakl refund reason its refund carries. A reason not listed holds its
              return with an “unmapped reason” exception until it is added here.
            </p>
            <RowsMappingEditor spec={reasonSpec} />
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
