import { useEffect } from 'react';
import { AboutPage } from '../features/about/AboutPage';
import { DashboardPage } from '../features/dashboard/DashboardPage';
import { ExceptionsPage } from '../features/exceptions/ExceptionsPage';
import { ReportsPage } from '../features/reports/ReportsPage';
import { ReturnsPage } from '../features/returns/ReturnsPage';
import { SettingsPage } from '../features/settings/SettingsPage';
import { sections, useAppStore, type SectionId } from './store';

const pages: Record<SectionId, () => React.JSX.Element> = {
  dashboard: DashboardPage,
  returns: ReturnsPage,
  exceptions: ExceptionsPage,
  reports: ReportsPage,
  settings: SettingsPage,
  about: AboutPage,
};

export function App() {
  const section = useAppStore((s) => s.section);
  const navigate = useAppStore((s) => s.navigate);
  const info = useAppStore((s) => s.info);
  const infoError = useAppStore((s) => s.infoError);
  const loadInfo = useAppStore((s) => s.loadInfo);

  useEffect(() => {
    void loadInfo();
  }, [loadInfo]);

  const Page = pages[section];
  return (
    <div className="shell">
      {info?.mode === 'sandbox' && (
        <div className="banner banner-sandbox" role="status">
          <strong>Sandbox</strong> — simulated ASOS Marketplace and ReBound data. Nothing here reaches a real system.
        </div>
      )}
      {infoError && (
        <div className="banner banner-error" role="alert">
          The app's local service is not answering: {infoError.message}
        </div>
      )}
      <div className="frame">
        <nav className="nav" aria-label="Sections">
          <div className="brand">Returns Workbench</div>
          <ul>
            {sections.map((s) => (
              <li key={s.id}>
                <button
                  type="button"
                  className={s.id === section ? 'nav-item active' : 'nav-item'}
                  aria-current={s.id === section ? 'page' : undefined}
                  data-section={s.id}
                  onClick={() => navigate(s.id)}
                >
                  {s.label}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <main className="page" aria-live="polite">
          <Page />
        </main>
      </div>
    </div>
  );
}
