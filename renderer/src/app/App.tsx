import { lazy, Suspense, useEffect } from 'react';
import type { BundleInfo } from '../../../core/contract';
import { Loading } from './EmptyState';
import { formatDateTime } from './format';
import { Notices } from './Notices';
import { loaders } from './opening';
import { sections, useAppStore, type SectionId } from './store';
import { WriteFreezeBanner } from '../features/writes/WriteFreeze';

const pages = Object.fromEntries(Object.entries(loaders).map(([id, load]) => [id, lazy(load)])) as Record<SectionId, React.LazyExoticComponent<React.ComponentType>>;

export function App() {
  const section = useAppStore((s) => s.section);
  const navigate = useAppStore((s) => s.navigate);
  const info = useAppStore((s) => s.info);
  const infoError = useAppStore((s) => s.infoError);
  const loadInfo = useAppStore((s) => s.loadInfo);

  useEffect(() => {
    void loadInfo();
  }, [loadInfo]);

  // An evidence bundle is opened to review its report: start there, unless the address names a section.
  const isBundle = Boolean(info?.bundle);
  useEffect(() => {
    if (isBundle && !new URLSearchParams(window.location.search).has('section')) navigate('reports');
  }, [isBundle, navigate]);

  const Page = pages[section];
  return (
    <div className="shell">
      {info?.mode === 'sandbox' && (
        <div className="banner banner-sandbox" role="status" aria-label="Sandbox mode">
          <strong>Sandbox</strong> — simulated ASOS Marketplace and ReBound data. Nothing here reaches a real system.
        </div>
      )}
      {info?.bundle && <BundleBanner bundle={info.bundle} />}
      {info && !info.bundle && <WriteFreezeBanner />}
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
        <main className="page" aria-label={sections.find((s) => s.id === section)?.label}>
          <Notices />
          <Suspense fallback={<Loading what="the page" />}>
            <Page />
          </Suspense>
        </main>
      </div>
    </div>
  );
}

/** Says the app shows an evidence bundle, read-only, and whether it is intact; if not, every problem found in it. */
function BundleBanner({ bundle }: { bundle: BundleInfo }) {
  return (
    <>
      <div className="banner banner-bundle" role="status" aria-label="Evidence bundle">
        <strong>Evidence bundle</strong> <code>{bundle.file}</code> for {bundle.period ?? 'an unknown period'} — read-only.
        {bundle.createdAt && ` Made ${formatDateTime(bundle.createdAt)}.`}
        {bundle.verified && ' Verified: every file matches its manifest and the audit chain holds.'}
      </div>
      {!bundle.verified && (
        <div className="banner banner-altered" role="alert" aria-label="Evidence bundle altered">
          <strong>This evidence bundle was altered after it was made</strong> (or is damaged): it does not prove what it shows.{' '}
          {bundle.problems.length} problem{bundle.problems.length === 1 ? '' : 's'} found:
          <ul className="bundle-problems">
            {bundle.problems.map((p, i) => (
              <li key={`${p.path}-${i}`}>
                <code>{p.path}</code> — {p.kind}: {p.detail}
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}
