import { lazy, Suspense, useEffect } from 'react';
import { roleLabels, type BundleInfo } from '../../../core/contract';
import { EmptyState, Loading, LoadError } from './EmptyState';
import { formatDateTime } from './format';
import { Notices } from './Notices';
import { loaders } from './opening';
import { sections, useAppStore, type SectionId } from './store';
import { WriteFreezeBanner } from '../features/writes/WriteFreeze';
import { useApprovalsStore } from '../features/approvals/store';
import { ChoosePasswordPage } from '../features/team/ChoosePasswordPage';
import { SignInPage } from '../features/team/SignInPage';
import { useTeamStore } from '../features/team/store';

const pages = Object.fromEntries(Object.entries(loaders).map(([id, load]) => [id, lazy(load)])) as Record<SectionId, React.LazyExoticComponent<React.ComponentType>>;

/**
 * On a team server, the person signs in (and replaces a temporary password) before the workbench opens; the desktop
 * app and the loopback browser mode open it at once, as one person with every role.
 */
export function App() {
  const host = useTeamStore((s) => s.host);
  const isSignedIn = useTeamStore((s) => s.isSignedIn);
  const me = useTeamStore((s) => s.me);
  const meError = useTeamStore((s) => s.meError);
  const loadMe = useTeamStore((s) => s.loadMe);
  // Only a team server has people to tell apart: elsewhere nothing is asked, as before.
  const needsMe = host === 'team' && isSignedIn;
  useEffect(() => {
    if (needsMe && !me) void loadMe();
  }, [needsMe, me, loadMe]);

  if (host === null) return <Loading what="the app" />;
  if (host === 'team' && !isSignedIn) return <SignInPage />;
  if (host === 'team' && !me) return meError ? <LoadError what="your account" message={meError.message} onRetry={() => void loadMe()} /> : <Loading what="your account" />;
  if (me?.mustChangePassword) return <ChoosePasswordPage />;
  return <Workbench />;
}

/** Which sections a person sees: Approvals and Accounts exist on a team server only, Accounts for Integration admins. */
function useVisibleSections() {
  const me = useTeamStore((s) => s.me);
  return sections.filter((s) => (s.id === 'approvals' ? Boolean(me?.team) : s.id === 'accounts' ? Boolean(me?.team && me.roles.includes('admin')) : true));
}

function Workbench() {
  const section = useAppStore((s) => s.section);
  const navigate = useAppStore((s) => s.navigate);
  const info = useAppStore((s) => s.info);
  const infoError = useAppStore((s) => s.infoError);
  const loadInfo = useAppStore((s) => s.loadInfo);

  const visible = useVisibleSections();
  const isTeam = useTeamStore((s) => Boolean(s.me?.team));
  const isStreamDown = useTeamStore((s) => s.isStreamDown);
  const pendingCount = useApprovalsStore((s) => s.pending?.length ?? null);
  const loadPending = useApprovalsStore((s) => s.loadPending);

  useEffect(() => {
    void loadInfo();
  }, [loadInfo]);
  useEffect(() => {
    if (isTeam) void loadPending();
  }, [isTeam, loadPending]);

  // An evidence bundle is opened to review its report: start there, unless the address names a section.
  const isBundle = Boolean(info?.bundle);
  useEffect(() => {
    if (isBundle && !new URLSearchParams(window.location.search).has('section')) navigate('reports');
  }, [isBundle, navigate]);

  const Page = pages[section];
  const isVisible = visible.some((s) => s.id === section);
  return (
    <div className="shell">
      {isTeam && isStreamDown && (
        <div className="banner banner-reconnecting" role="status" aria-label="Connection to the server">
          Reconnecting to the server… What you see may be out of date until it answers again.
        </div>
      )}
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
          {isTeam && <PersonBar />}
          <ul>
            {visible.map((s) => (
              <li key={s.id}>
                <button
                  type="button"
                  className={s.id === section ? 'nav-item active' : 'nav-item'}
                  aria-current={s.id === section ? 'page' : undefined}
                  data-section={s.id}
                  onClick={() => navigate(s.id)}
                >
                  {s.label}
                  {s.id === 'approvals' && pendingCount ? (
                    <span className="nav-count" aria-label={`${pendingCount} waiting`}>
                      {pendingCount}
                    </span>
                  ) : null}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <main className="page" aria-label={sections.find((s) => s.id === section)?.label}>
          <Notices />
          <Suspense fallback={<Loading what="the page" />}>
            {isVisible ? (
              <Page />
            ) : (
              <EmptyState title="Not available to you">This page is for Integration admins on a team server. An Integration admin can change your roles.</EmptyState>
            )}
          </Suspense>
        </main>
      </div>
    </div>
  );
}

/** Who is signed in to the team server, with what roles, and the way out. */
function PersonBar() {
  const me = useTeamStore((s) => s.me);
  const signOut = useTeamStore((s) => s.signOut);
  const isSigningOut = useTeamStore((s) => s.isSigningOut);
  if (!me) return null;
  return (
    <div className="person" aria-label="Signed in">
      <strong data-testid="person-name">{me.displayName}</strong>
      <span data-testid="person-roles">{me.roles.map((r) => roleLabels[r]).join(', ')}</span>
      <button type="button" className="link" disabled={isSigningOut} onClick={() => void signOut()}>
        {isSigningOut ? 'Signing out…' : 'Sign out'}
      </button>
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
