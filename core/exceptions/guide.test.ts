import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/support/temp-dir';
import { repoRoot } from '../cli/paths';
import { loadMappings } from '../mappings/load';
import type { Policy } from '../mappings/schemas';
import { actionIds, actionsOf, exceptionTypeNames, exceptionTypes, findAction, type ActionId, type ExceptionTypeName } from './catalogue';
import { formatDuration, helpFor, renderOperationsGuide } from './guide';

// The catalogue is the one source of the in-app help and of the operations guide: these tests prove every type is
// complete, that the actions are the ones the commands implement, that time limits come from the policy, and that
// the committed guide is a fresh render.

const policy = loadMappings().policy;
const guidePath = fileURLToPath(new URL('./OPERATIONS-GUIDE.md', import.meta.url));
const withPolicy = (change: (p: Policy) => void): Policy => {
  const copy = structuredClone(policy);
  change(copy);
  return copy;
};

const expectedActions: Record<ExceptionTypeName, ActionId[]> = {
  RETURN_NOT_CREATED: ['retry', 'dismiss'],
  ORDER_NOT_FOUND: ['retry', 'dismiss'],
  STATUS_NOT_PUSHED: ['push_now', 'dismiss'],
  STATUS_PUSH_REJECTED: ['retry', 'dismiss'],
  REFUND_STALLED: ['retry', 'probe', 'escalate', 'refund_now'],
  REFUND_WITHOUT_RECEIPT: ['acknowledge'],
  REFUND_EXCEEDS_RECEIPT: ['acknowledge'],
  REFUND_AMOUNT_MISMATCH: ['accept_variance', 'refund_difference'],
  OUTCOME_UNKNOWN: ['probe', 'mark_confirmed', 'mark_failed'],
  UNMAPPED_REASON: ['reprocess'],
  OFFER_NOT_FOUND: ['remap', 'skip_restock'],
  STOCK_REJECTED: ['retry', 'remap', 'skip_restock'],
  STOCK_IMPORT_STALLED: ['investigate'],
  STOCK_OVERWRITTEN: ['investigate', 'acknowledge'],
  SHORT_RECEIPT: ['accept_partial', 'investigate'],
  UNIT_FACTS_CONTRADICT: ['resync', 'investigate', 'acknowledge'],
  UNEXPECTED_ITEM: ['investigate', 'dismiss'],
  PARCEL_STALLED: ['chase_carrier', 'mark_lost'],
  STATUS_DRIFT: ['resync', 'dismiss'],
  MALFORMED_RECORD: ['dismiss'],
  RESTORED_DATABASE: [],
  RESTOCK_UNCERTAIN: ['retry', 'skip_restock'],
  FOREIGN_WRITE: ['acknowledge'],
  CREDENTIALS_INVALID: [],
};

const needingReason = new Set<ActionId>([
  'dismiss',
  'acknowledge',
  'accept_variance',
  'accept_partial',
  'mark_confirmed',
  'mark_failed',
  'mark_lost',
  'refund_now',
  'skip_restock',
]);

describe('exception catalogue', () => {
  it.each(exceptionTypeNames)('%s has every field, at least one check and plain-text help', (name) => {
    const t = exceptionTypes[name];
    expect(['finance', 'cs', 'warehouse', 'ops']).toContain(t.owner);
    expect(['critical', 'high', 'medium', 'low']).toContain(t.severity);
    for (const text of [t.title, t.nextAction, t.meaning]) expect(text.trim().length).toBeGreaterThan(5);
    expect('policyKey' in t.sla || ('fixed' in t.sla && t.sla.fixed.length > 0)).toBe(true);
    expect(t.check.length).toBeGreaterThan(0);
    for (const c of t.check) expect(c.trim().length).toBeGreaterThan(5);
    for (const a of t.actions) {
      expect(a.label.trim().length).toBeGreaterThan(2);
      expect(a.help.trim().length).toBeGreaterThan(10);
    }
  });

  it('offers exactly the resolutions the commands implement, each needing a reason where it closes without fixing', () => {
    expect(Object.keys(expectedActions).sort()).toEqual([...exceptionTypeNames].sort());
    for (const name of exceptionTypeNames) {
      const ids = actionsOf(name).map((a) => a.id);
      expect(ids, name).toEqual(expectedActions[name]);
      for (const a of actionsOf(name)) {
        expect(actionIds, `${name}.${a.id}`).toContain(a.id);
        expect(a.needsReason, `${name}.${a.id} needsReason`).toBe(needingReason.has(a.id));
      }
    }
    expect(new Set(exceptionTypeNames.flatMap((n) => actionsOf(n).map((a) => a.id)))).toEqual(new Set(actionIds));
    expect(findAction('REFUND_STALLED', 'refund_now')?.needsReason).toBe(true);
    expect(findAction('REFUND_STALLED', 'dismiss')).toBeUndefined();
  });

  it('sends credential problems to Settings, since core offers no action for them', () => {
    expect(actionsOf('CREDENTIALS_INVALID')).toEqual([]);
    expect(exceptionTypes.CREDENTIALS_INVALID.check.join(' ')).toMatch(/Settings.*Test connection/);
  });

  it('states the money rule in the help of every refund exception', () => {
    for (const name of exceptionTypeNames.filter((n) => n.startsWith('REFUND_'))) {
      const help = actionsOf(name).map((a) => a.help).join(' ');
      expect(help, name).toContain('never sent without a verified receipt unless a person records an override with a reason');
      expect(help, name).toContain('audit log');
    }
  });
});

describe('time limits', () => {
  it('formats policy durations in the largest whole unit', () => {
    expect(formatDuration(240, 'minutes')).toBe('4 hours');
    expect(formatDuration(90, 'minutes')).toBe('90 minutes');
    expect(formatDuration(1, 'hours')).toBe('1 hour');
    expect(formatDuration(1.5, 'hours')).toBe('90 minutes');
    expect(formatDuration(10, 'days')).toBe('10 days');
    expect(formatDuration(0.5, 'days')).toBe('12 hours');
  });

  it('renders the policy value, and follows the policy when it changes', () => {
    expect(helpFor('RETURN_NOT_CREATED', policy).sla).toBe(`${policy.sla.returnNotCreatedHours} hours after the return first appears in Mirakl`);
    const changed = withPolicy((p) => {
      p.sla.returnNotCreatedHours = 7;
      p.sla.refundStalledHours = 72;
      p.sla.parcelStalledDays = 1;
      p.returns.orderWaitMinutes = 90;
    });
    expect(helpFor('RETURN_NOT_CREATED', changed).sla).toBe('7 hours after the return first appears in Mirakl');
    expect(helpFor('REFUND_STALLED', changed).sla).toMatch(/^72 hours /);
    expect(helpFor('PARCEL_STALLED', changed).sla).toMatch(/^1 day /);
    expect(helpFor('ORDER_NOT_FOUND', changed).sla).toMatch(/^90 minutes /);

    const before = renderOperationsGuide(policy);
    const after = renderOperationsGuide(changed);
    expect(after).not.toBe(before);
    expect(after).toContain('7 hours after the return first appears in Mirakl');
    expect(before).not.toContain('7 hours after the return first appears in Mirakl');
    expect(after).toContain('verified less than 72 hours ago');
  });

  it('uses the fixed rule where no policy setting applies', () => {
    expect(helpFor('REFUND_WITHOUT_RECEIPT', policy).sla).toBe('at once, as soon as it is seen');
    expect(helpFor('OUTCOME_UNKNOWN', policy).sla).toBe('after 1 hour');
  });
});

describe('in-app help', () => {
  it.each(exceptionTypeNames)('%s help is plain JSON matching the catalogue', (name) => {
    const help = helpFor(name, policy);
    expect(JSON.parse(JSON.stringify(help))).toEqual(help);
    const t = exceptionTypes[name];
    expect(help).toMatchObject({ type: name, title: t.title, owner: t.owner, severity: t.severity, meaning: t.meaning });
    expect(help.check).toEqual([...t.check]);
    expect(help.actions.map((a) => a.id)).toEqual(expectedActions[name]);
  });
});

describe('operations guide', () => {
  const guide = renderOperationsGuide(policy);

  it('has the sections business people look for, and every type and its actions', () => {
    for (const heading of ['## What the app does', '## Exceptions', '## Who owns what', '## Daily checks: customer service', '## Daily checks: operations and warehouse', '## Month-end checks for finance', '## Exception types']) {
      expect(guide).toContain(`\n${heading}\n`);
    }
    for (const state of ['open', 'in review', 'snoozed', 'resolved']) expect(guide).toContain(`| ${state} |`);
    expect(guide).toContain('Refunds without a verified receipt must be 0');
    expect(guide).toContain('period lock comes with the month-end reports');
    for (const name of exceptionTypeNames) {
      expect(guide).toContain(`(\`${name}\`)`);
      for (const a of actionsOf(name)) expect(guide).toContain(`**${a.label}**${a.needsReason ? ' (needs a reason)' : ''}: ${a.help}`);
    }
  });

  it('every internal link points at a section', () => {
    const anchors = new Set([...guide.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
    const links = [...guide.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(exceptionTypeNames.length);
    for (const l of links) expect(anchors).toContain(l);
  });

  it('speaks to people, not to IT: no API codes or internal words', () => {
    expect(guide).not.toMatch(/\b(RT\d\d|OR\d\d|STO\d\d|RE\d\d)\b/);
    expect(guide).not.toMatch(/\bintents?\b/i);
    expect(guide).not.toMatch(/\b(idempoten|webhook|SQLite|HTTP|API)\b/i);
  });

  it('the committed OPERATIONS-GUIDE.md is a fresh render (regenerate with: npx tsx core/cli/guide.ts)', () => {
    const committed = readFileSync(guidePath, 'utf8');
    expect(committed === guide, 'core/exceptions/OPERATIONS-GUIDE.md is out of date: run npx tsx core/cli/guide.ts').toBe(true);
  });
});

describe('guide CLI', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  const run = (...args: string[]) => {
    try {
      return { code: 0, out: execFileSync(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['core/cli/guide.ts', ...args], { cwd: repoRoot, encoding: 'utf8', stdio: 'pipe' }) };
    } catch (e) {
      const error = e as { status: number; stderr: string };
      return { code: error.status, out: error.stderr };
    }
  };

  it('writes the guide with --out, and --check fails once the file differs', () => {
    const out = join(temp.dir, 'guide.md');
    expect(run('--out', out).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(renderOperationsGuide(policy));
    expect(run('--check', '--out', out).code).toBe(0);
    writeFileSync(out, readFileSync(out, 'utf8').replace('4 hours', '5 hours'));
    const stale = run('--check', '--out', out);
    expect(stale.code).toBe(1);
    expect(stale.out).toContain('npx tsx core/cli/guide.ts');
    expect(run('--bogus').code).toBe(2);
  });
});
