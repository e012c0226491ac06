import { isMap, isSeq, parseDocument, visit, YAMLMap } from 'yaml';
import { AppError } from '../errors';

// Edits of a mapping file made for a person by an action elsewhere (an exception's "Map to another listing"), written
// into the file's own text so its comments and order stay as the person left them. The result goes through the mapping
// editor's save like any edit: checked, versioned, audited.

/**
 * The sku-offers text with each order SKU in `orderSkus` restocked on offer `to`: its override's offer changed (a
 * never-restock line becomes an offer line), or one added; an SKU mapped to itself needs none, so its line goes. The
 * file's version is raised by one.
 */
export function withSkuOverrides(text: string, orderSkus: readonly string[], to: string): string {
  const doc = parseDocument(text);
  // An alias (*name) repeats a value written elsewhere: changing one line could change another.
  let hasAlias = false;
  visit(doc, {
    Alias: () => {
      hasAlias = true;
      return visit.BREAK;
    },
  });
  if (hasAlias) throw new AppError('CONFLICT', 'the file repeats values with YAML aliases (*name), so an edit made for you could change other lines: edit it yourself');
  const version = doc.get('version');
  doc.set('version', typeof version === 'number' ? version + 1 : 1);
  let overrides = doc.get('overrides');
  if (!isSeq(overrides)) {
    overrides = doc.createNode([]);
    doc.set('overrides', overrides);
  }
  if (!isSeq(overrides)) throw new Error('overrides could not be made a list');
  const lines = overrides;
  for (const sku of orderSkus) {
    const at = lines.items.findIndex((item) => isMap(item) && item.get('orderSku') === sku);
    if (sku === to) {
      if (at >= 0) lines.delete(at);
      continue;
    }
    const line = at >= 0 ? lines.items[at] : undefined;
    if (line instanceof YAMLMap) {
      line.delete('restock');
      line.set('offerSku', to);
    } else {
      lines.add(doc.createNode({ orderSku: sku, offerSku: to }));
    }
  }
  // An empty list is written inline ("[]"), as the shipped file has it.
  if (lines.items.length === 0) lines.flow = true;
  else lines.flow = false;
  return doc.toString();
}
