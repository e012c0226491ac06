import type { Database } from 'better-sqlite3';

// Mirakl's reason lists (RE01) as last read, kept for offline use: replaced whole at each read, never edited.

export interface MiraklReason {
  type: string;
  code: string;
  label: string;
  isShopRight: boolean;
}

export function createMiraklReasonsRepo(db: Database) {
  const clear = db.prepare('DELETE FROM mirakl_reasons');
  const insert = db.prepare(`INSERT INTO mirakl_reasons (type, code, label, is_shop_right, position) VALUES (@type, @code, @label, @isShopRight, @position)
    ON CONFLICT (type, code) DO NOTHING`);
  const markRead = db.prepare(`INSERT INTO mirakl_reason_reads (id, read_at, reasons) VALUES (1, @readAt, @reasons)
    ON CONFLICT (id) DO UPDATE SET read_at = excluded.read_at, reasons = excluded.reasons`);
  const all = db.prepare('SELECT type, code, label, is_shop_right AS isShopRight FROM mirakl_reasons ORDER BY type, position');
  const lastRead = db.prepare('SELECT read_at AS readAt FROM mirakl_reason_reads WHERE id = 1');
  // The return reason codes the stored returns carry, most used first: Mirakl's RT enum can grow (specs NOTES §4).
  const seen = db.prepare('SELECT reason_code AS code, count(*) AS n FROM mirakl_return_lines GROUP BY reason_code ORDER BY n DESC, reason_code');
  return {
    /** The lists as just read from Mirakl, in its order (a code listed twice under one type keeps its first label). */
    replace(reasons: readonly MiraklReason[], readAt: string): void {
      db.transaction(() => {
        clear.run();
        reasons.forEach((r, position) => insert.run({ type: r.type, code: r.code, label: r.label, isShopRight: r.isShopRight ? 1 : 0, position }));
        markRead.run({ readAt, reasons: reasons.length });
      })();
    },
    list: (): MiraklReason[] => (all.all() as { type: string; code: string; label: string; isShopRight: number }[]).map((r) => ({ ...r, isShopRight: r.isShopRight === 1 })),
    /** When the lists were last read from Mirakl; null when never. */
    readAt: (): string | null => (lastRead.get() as { readAt: string } | undefined)?.readAt ?? null,
    seenReturnReasons: (): { code: string; returnLines: number }[] => (seen.all() as { code: string; n: number }[]).map((r) => ({ code: r.code, returnLines: r.n })),
  };
}

export type MiraklReasonsRepo = ReturnType<typeof createMiraklReasonsRepo>;
