import Database from 'better-sqlite3';

// Where an engine's SQL time goes, statement by statement: `--sql-profile` on a bench part times every statement this
// process prepares (run, get, all, iterate) from then on and prints the costliest at the end. It is how issue 22's
// per-cycle reads that grew with the backlog were found. The timing wraps each call, so the part's own figures are
// inflated while it is on: a tool for finding, not for the README's figures.

interface Entry {
  ns: number;
  calls: number;
}

export interface SqlProfile {
  /** The `top` statements by total time, one line each: total ms, calls, µs a call, the SQL on one line. */
  report(top: number): string[];
}

export function installSqlProfile(): SqlProfile {
  const bySql = new Map<string, Entry>();
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function profiledPrepare(this: Database.Database, sql: string) {
    const statement = prepare.call(this, sql);
    const entry = bySql.get(sql) ?? { ns: 0, calls: 0 };
    bySql.set(sql, entry);
    for (const method of ['run', 'get', 'all', 'iterate'] as const) {
      const original = (statement[method] as (...args: unknown[]) => unknown).bind(statement);
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        const t0 = process.hrtime.bigint();
        try {
          return original(...args);
        } finally {
          entry.ns += Number(process.hrtime.bigint() - t0);
          entry.calls++;
        }
      };
    }
    return statement;
  } as typeof prepare;
  return {
    report(top) {
      const rows = [...bySql.entries()].filter(([, e]) => e.calls > 0).sort((a, b) => b[1].ns - a[1].ns);
      const totalMs = rows.reduce((s, [, e]) => s + e.ns, 0) / 1e6;
      return [
        `SQL time ${totalMs.toFixed(0)} ms over ${rows.reduce((s, [, e]) => s + e.calls, 0).toLocaleString('en-GB')} calls (iterate: until the iterator is made, not read)`,
        ...rows
          .slice(0, top)
          .map(([sql, e]) => `${(e.ns / 1e6).toFixed(0).padStart(7)} ms ${String(e.calls).padStart(8)} × ${(e.ns / e.calls / 1e3).toFixed(0).padStart(6)} µs  ${sql.replace(/\s+/g, ' ').trim().slice(0, 140)}`),
      ];
    },
  };
}
