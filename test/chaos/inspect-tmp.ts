import { runSeed } from './simulation';
const seed = Number(process.argv[2]); const sku = String(process.argv[3]);
process.env.RW_CHAOS_WITH_RESTORE = '1';
const show = (tag: string, rows: unknown[]) => { for (const r of rows) console.log(tag, JSON.stringify(r).slice(0, 1200)); };
void runSeed(seed, { inspect: ({ truth, db }) => {
  const t = truth as any;
  console.log('TRUTH stock', JSON.stringify(t.mirakl.stock[sku]));
  console.log('IMPORTS', JSON.stringify(t.mirakl.stockImports.filter((i: any) => JSON.stringify(i).includes(sku))));
  show('INC', db.prepare(`select * from stock_increments where offer_sku=?`).all(sku));
  show('IMP', db.prepare(`select id,state,payload,outcome,created_at,updated_at from intents where kind='stock.import' and payload like ?`).all(`%${sku}%`));
  show('RQ', db.prepare(`select id, started_at, stock_settled_at, stock_outcome, ended_at from restore_quarantines`).all());
  show('EXC', db.prepare(`select type,subject_key,state,cause,detected_at from exceptions where cause like ? or subject_key like ?`).all(`%${sku}%`, `%${sku}%`));
  show('SALE', db.prepare(`select * from offer_sales where offer_sku=?`).all(sku));
  show('EXPORT', db.prepare(`select id, mode, requested_at, taken_from_mirakl, taken_by_mirakl, applied_at from offer_exports`).all());
  show('CUR', db.prepare(`select * from sync_cursors where feed like 'stock%'`).all());
  show('EXPECTED', db.prepare(`select * from offer_expected where shop_sku=?`).all(sku));
} }).then((r: any) => console.log('RESULT', JSON.stringify(r.violations ?? r).slice(0, 500)));
