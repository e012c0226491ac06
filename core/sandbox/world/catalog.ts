import type { Rng } from '../rng';

// The shop's offers and the operator's reason lists: the fixed part of the Mirakl world.

export interface Offer {
  offerId: number;
  shopSku: string;
  productSku: string;
  productTitle: string;
  ean: string;
  categoryCode: string;
  categoryLabel: string;
  /** Price in GBP minor units; EUR prices are derived. */
  priceGbpMinor: number;
  initialQuantity: number;
  quantity: number;
  soldUnits: number;
  /** When the offer last changed (its stock, here): what a differential export (OF52 last_request_date) selects on. */
  lastUpdated: number;
}

export interface Reason {
  code: string;
  label: string;
  type: 'REFUND' | 'RETURN' | 'RETURN_REJECTION' | 'RETURN_NON_COMPLIANT' | 'CANCELATION' | 'INCIDENT_OPEN';
  isShopRight: boolean;
}

const garments = [
  ['TEE', 'T-shirt', 'tops', 'Tops'],
  ['HOOD', 'Hoodie', 'tops', 'Tops'],
  ['JEAN', 'Slim jeans', 'bottoms', 'Bottoms'],
  ['DRS', 'Midi dress', 'dresses', 'Dresses'],
  ['JKT', 'Denim jacket', 'outerwear', 'Outerwear'],
  ['SNK', 'Canvas trainers', 'shoes', 'Shoes'],
  ['SKT', 'Pleated skirt', 'bottoms', 'Bottoms'],
  ['SHT', 'Oxford shirt', 'tops', 'Tops'],
] as const;
const colours = ['BLK', 'WHT', 'NVY', 'RED', 'GRN', 'SND'] as const;
const sizes = ['XS', 'S', 'M', 'L', 'XL'] as const;

export function generateOffers(rng: Rng, count = 240): Offer[] {
  const offers: Offer[] = [];
  let n = 0;
  for (const [code, name, categoryCode, categoryLabel] of garments) {
    for (const colour of colours) {
      for (const size of sizes) {
        if (offers.length >= count) return offers;
        n++;
        const quantity = rng.int(20, 400);
        offers.push({
          offerId: 2000 + n,
          shopSku: `${code}-${colour}-${size}`,
          productSku: `ASOS${String(100000 + n)}`,
          productTitle: `${name} ${colour.toLowerCase()} ${size}`,
          ean: `50${String(1000000000 + n * 7).padStart(11, '0')}`,
          categoryCode,
          categoryLabel,
          priceGbpMinor: rng.int(8, 90) * 100 + rng.pick([0, 50, 99]),
          initialQuantity: quantity,
          quantity,
          soldUnits: 0,
          lastUpdated: 0,
        });
      }
    }
  }
  return offers;
}

// Operator-style codes: numeric strings with localised labels (specs NOTES §7), not the fixed RT enums.
export const reasons: Reason[] = [
  { code: '11', label: 'Item returned by customer', type: 'REFUND', isShopRight: true },
  { code: '12', label: 'Item returned damaged', type: 'REFUND', isShopRight: true },
  { code: '13', label: 'Wrong item sent', type: 'REFUND', isShopRight: true },
  { code: '14', label: 'Item not received by customer', type: 'REFUND', isShopRight: true },
  { code: '15', label: 'Out of stock', type: 'REFUND', isShopRight: true },
  { code: '19', label: 'Goodwill gesture (operator only)', type: 'REFUND', isShopRight: false },
  { code: '21', label: 'Too small', type: 'RETURN', isShopRight: true },
  { code: '22', label: 'Too big', type: 'RETURN', isShopRight: true },
  { code: '23', label: 'Changed my mind', type: 'RETURN', isShopRight: true },
  { code: '24', label: 'Faulty item', type: 'RETURN', isShopRight: true },
  { code: '25', label: 'Not as described', type: 'RETURN', isShopRight: true },
  { code: '31', label: 'Outside return window', type: 'RETURN_REJECTION', isShopRight: true },
  { code: '41', label: 'Item damaged by customer', type: 'RETURN_NON_COMPLIANT', isShopRight: true },
  { code: '51', label: 'Customer request', type: 'CANCELATION', isShopRight: true },
  { code: '61', label: 'Item not received', type: 'INCIDENT_OPEN', isShopRight: false },
];

/** The fixed RT return reason enum (specs NOTES §4) that customers pick from on the marketplace. */
export const returnReasonCodes = [
  'RETURN_PDNT_TOO_SMALL',
  'RETURN_PDNT_TOO_BIG',
  'RETURN_CM_DONT_LIKE',
  'RETURN_CHANGED_MIND',
  'RETURN_DEFECTIVE_ITEM',
  'RETURN_DPD_WRONG_COLOR',
  'RETURN_INACCURATE_ITEM_DESCRIPTION',
] as const;

/** A real reason code the shipped mapping leaves out, drawn at the scenario's unmappedReasonRate. */
export const unmappedReturnReasonCode = 'RETURN_DAMAGED_PACKAGING';
