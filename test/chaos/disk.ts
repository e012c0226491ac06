import Database from 'better-sqlite3';

// Storage faults. An I/O error fails one chosen write (every statement's run() passes here), inside whatever
// transaction it belongs to, exactly as SQLite reports a failing disk. A full disk is SQLite's own: the database may
// not grow past its current page count (max_page_count), so any write that needs a new page fails with SQLITE_FULL.

export interface DiskFaults {
  /** Fails the `n`-th write from now with SQLITE_IOERR; calls `onFire` when it does. */
  armIoError(n: number, onFire: (sql: string) => void): void;
  /** Fails every write that needs a new page, on every connection opened through `wrap`, until `setFull(false)`. */
  setFull(isFull: boolean): void;
  readonly isFull: boolean;
  /** The database as the engine sees it: the same connection, with writes going through the fault check. */
  wrap(db: Database.Database): Database.Database;
  /** Writes that failed because of these faults. */
  readonly failedWrites: number;
}

const unlimitedPages = 1_073_741_823;

export function createDiskFaults(): DiskFaults {
  let countdown: { left: number; onFire: (sql: string) => void } | null = null;
  let isFull = false;
  let failedWrites = 0;
  const connections = new Set<Database.Database>();

  const limit = (db: Database.Database) => {
    if (!db.open) {
      connections.delete(db);
      return;
    }
    const pages = isFull ? Number(db.pragma('page_count', { simple: true })) : unlimitedPages;
    db.pragma(`max_page_count = ${pages}`);
  };

  const beforeWrite = (sql: string) => {
    if (!countdown) return;
    countdown.left--;
    if (countdown.left > 0) return;
    const { onFire } = countdown;
    countdown = null;
    failedWrites++;
    onFire(sql);
    throw new Database.SqliteError('disk I/O error (injected by the chaos harness)', 'SQLITE_IOERR');
  };

  return {
    armIoError(n, onFire) {
      countdown = { left: Math.max(1, n), onFire };
    },
    setFull(full) {
      isFull = full;
      for (const db of [...connections]) limit(db);
    },
    get isFull() {
      return isFull;
    },
    get failedWrites() {
      return failedWrites;
    },
    wrap(db) {
      connections.add(db);
      limit(db);
      return wrapper(db, (target, key) => {
        if (key !== 'prepare') return undefined;
        return (sql: string) => {
          const statement = target.prepare(sql);
          if (statement.reader) return statement;
          return wrapper(statement, (s, k) => {
            if (k !== 'run') return undefined;
            return (...args: unknown[]) => {
              beforeWrite(sql);
              try {
                return (s.run as (...a: unknown[]) => Database.RunResult)(...args);
              } catch (error) {
                if ((error as { code?: string }).code === 'SQLITE_FULL') failedWrites++;
                throw error;
              }
            };
          });
        };
      });
    },
  };
}

/**
 * `target` seen through `override` (a replacement for some members; undefined leaves a member as it is). What the engine
 * sets on the wrapper stays on the wrapper, in front of the override: core/store/changes.ts wraps a connection's
 * `prepare` and a statement's `run` to track writes, and set on the target itself, its wrapper would call the
 * override, which calls the target's member — the wrapper again — for ever.
 */
function wrapper<T extends object>(target: T, override: (target: T, key: PropertyKey) => unknown): T {
  const own = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    set(_target, key, value) {
      own.set(key, value);
      return true;
    },
    get(t, key) {
      if (own.has(key)) return own.get(key);
      const replaced = override(t, key);
      if (replaced !== undefined) return replaced;
      const value = Reflect.get(t, key, t) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
