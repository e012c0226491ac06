// The return reason codes Mirakl's returns carry (RT11 `reason_code`, return and line): a fixed enum in the seller
// spec (specs NOTES §4), with the plain words the mapping editor shows beside each. The enum can grow, so a code the
// stored returns carry counts as known too; RE01 may also list operator-configured reasons of type RETURN.
export const specReturnReasons: readonly { code: string; label: string }[] = [
  { code: 'RETURN_BROKEN_ITEM', label: 'Item arrived broken' },
  { code: 'RETURN_CHANGED_MIND', label: 'Changed their mind' },
  { code: 'RETURN_COUNTERFEIT_ITEM', label: 'Counterfeit item' },
  { code: 'RETURN_DAMAGED_PACKAGING', label: 'Damaged packaging' },
  { code: 'RETURN_DEFECTIVE_ITEM', label: 'Defective item' },
  { code: 'RETURN_DELIVERED_PRODUCT_DIFFERENT', label: 'A different product was delivered' },
  { code: 'RETURN_MISSING_ITEM', label: 'Item missing from the parcel' },
  { code: 'RETURN_OTHER', label: 'Other reason' },
  { code: 'RETURN_CM_DONT_WANT', label: 'No longer wanted' },
  { code: 'RETURN_CM_DONT_LIKE', label: 'Did not like it' },
  { code: 'RETURN_CM_QUALITY', label: 'Not happy with the quality' },
  { code: 'RETURN_DPD_WRONG_SIZE', label: 'Wrong size delivered' },
  { code: 'RETURN_DPD_WRONG_COLOR', label: 'Wrong colour delivered' },
  { code: 'RETURN_DEFECTIVE_ON_ARRIVAL', label: 'Defective on arrival' },
  { code: 'RETURN_PRODUCT_DOES_NOT_FIT', label: 'Does not fit' },
  { code: 'RETURN_PDNT_TOO_BIG', label: 'Too big' },
  { code: 'RETURN_PDNT_TOO_SMALL', label: 'Too small' },
  { code: 'RETURN_INACCURATE_ITEM_DESCRIPTION', label: 'Not as described' },
  { code: 'RETURN_WARRANTY', label: 'Warranty claim' },
];
