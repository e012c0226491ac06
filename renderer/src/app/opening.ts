import { useAppStore, type SectionId } from './store';

// Each section's code loads when it is first opened, so a start straight onto one section (the returns grid, with a
// year of returns in it) parses only what that section needs; the settings editors also carry a YAML parser.
export const loaders: Record<SectionId, () => Promise<{ default: React.ComponentType }>> = {
  dashboard: () => import('../features/dashboard/DashboardPage').then((m) => ({ default: m.DashboardPage })),
  returns: () => import('../features/returns/ReturnsPage').then((m) => ({ default: m.ReturnsPage })),
  exceptions: () => import('../features/exceptions/ExceptionsPage').then((m) => ({ default: m.ExceptionsPage })),
  suggestions: () => import('../features/suggestions/SuggestionsPage').then((m) => ({ default: m.SuggestionsPage })),
  outgoing: () => import('../features/outgoing/OutgoingPage').then((m) => ({ default: m.OutgoingPage })),
  reports: () => import('../features/reports/ReportsPage').then((m) => ({ default: m.ReportsPage })),
  approvals: () => import('../features/approvals/ApprovalsPage').then((m) => ({ default: m.ApprovalsPage })),
  settings: () => import('../features/settings/SettingsPage').then((m) => ({ default: m.SettingsPage })),
  accounts: () => import('../features/accounts/AccountsPage').then((m) => ({ default: m.AccountsPage })),
  audit: () => import('../features/audit/AuditPage').then((m) => ({ default: m.AuditPage })),
  about: () => import('../features/about/AboutPage').then((m) => ({ default: m.AboutPage })),
};

// The section the app opens on is fetched now — main.tsx imports this module first, so the request goes out before
// the grid library and React are evaluated, not after — and the lazy page's own import later finds it loading or
// loaded (the browser keeps one copy of a module).
void loaders[useAppStore.getState().section]();
