import type { Rng } from '../rng';
import type { Range, Scenario } from '../scenario';
import type { Disposition, Grade, MilestoneStatus, ReboundFlow } from './model';

// What the customer physically sends and how the hub will grade it, decided once when the return order is created
// and drawn from that order's own forked stream: the same seed gives the same parcels whatever the client does
// first. The API reveals these facts only as the parcel reaches each milestone.

export interface PhysicalTuning {
  /** Share of hub-processed parcels that are then sent on to the client (parcel-level sorting, §1.8). */
  deliveredToClientRate: number;
  hoursToDeliveredToClient: Range;
  /** Days without a carrier scan before a return order expires. */
  expireAfterDays: number;
  /** Share of sellable units graded B_SELLABLE_MINOR rather than A_SELLABLE. */
  minorWearRate: number;
}

export const defaultPhysicalTuning: PhysicalTuning = {
  deliveredToClientRate: 0.1,
  hoursToDeliveredToClient: [24, 120],
  expireAfterDays: 28,
  minorWearRate: 0.25,
};

export interface AnnouncedUnit {
  reboundItemId: string;
  clientItemId: string;
  sku: string;
}

export interface UnitPlan {
  fate: 'announced' | 'notSent' | 'wrongSku';
  /** The condition it arrives in, if it arrives. */
  grade: Grade;
  disposition: Disposition | null;
}

export interface ExtraPlan {
  reboundItemId: string;
  cause: 'wrongSku' | 'unexpectedItem';
  sku: string | null;
  replacesReboundItemId: string | null;
  grade: Grade;
  disposition: Disposition;
}

export interface Durations {
  network: number;
  hub: number;
  registered: number;
  processed: number;
  delivered: number;
}

export interface PhysicalPlan {
  isParcelSent: boolean;
  isDeliveredToClient: boolean;
  hub: string;
  carrier: string;
  durationsMs: Durations;
  expireAfterMs: number;
  /** Same order as the announced units. */
  units: UnitPlan[];
  extras: ExtraPlan[];
}

const hubs = ['GB_NHP_Northampton', 'GB_WSL_Walsall', 'GB_CRW_Crewe'];
const carriers = ['ROYAL_MAIL', 'EVRI'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function planPhysical(input: {
  rng: Rng;
  scenario: Scenario;
  tuning: PhysicalTuning;
  units: AnnouncedUnit[];
  pickOtherSku(rng: Rng, notSku: string): string;
  /** Draws a fresh item id that is not in use yet. */
  newItemId(rng: Rng): string;
}): PhysicalPlan {
  const { rng, scenario, tuning } = input;
  // One sub-stream per decision, so that adding a decision later does not reshuffle the others.
  const fate = rng.fork('fate');
  const timing = rng.fork('timing');
  const contents = rng.fork('contents');
  const grading = rng.fork('grades');
  const extraIds = rng.fork('extra-ids');

  const durationsMs: Durations = {
    network: minutesIn(timing, scenario.hoursToNetwork),
    hub: minutesIn(timing, scenario.hoursToHub),
    registered: minutesIn(timing, scenario.hoursToRegistered),
    processed: minutesIn(timing, scenario.hoursToProcessed),
    delivered: minutesIn(timing, tuning.hoursToDeliveredToClient),
  };
  const isParcelSent = !fate.chance(scenario.parcelNeverSentRate);
  const isDeliveredToClient = fate.chance(tuning.deliveredToClientRate);

  const units: UnitPlan[] = input.units.map(() => ({ fate: 'announced', grade: 'NOT_RECEIVED', disposition: null }));
  if (contents.chance(scenario.shortReceiptRate) && units.length > 0) {
    // "Fewer units": with several units at least one still arrives; a single-unit return arrives empty.
    const missing = units.length > 1 ? contents.int(1, units.length - 1) : 1;
    for (const index of pickIndexes(contents, units.length, missing)) {
      const unit = units[index];
      if (unit) unit.fate = 'notSent';
    }
  }
  const extras: ExtraPlan[] = [];
  const sentIndexes = units.flatMap((u, i) => (u.fate === 'announced' ? [i] : []));
  if (contents.chance(scenario.wrongSkuRate) && sentIndexes.length > 0) {
    const index = contents.pick(sentIndexes);
    const unit = units[index];
    const announced = input.units[index];
    if (unit && announced) {
      unit.fate = 'wrongSku';
      extras.push({
        reboundItemId: input.newItemId(extraIds),
        cause: 'wrongSku',
        sku: input.pickOtherSku(contents.fork('wrong-sku'), announced.sku),
        replacesReboundItemId: announced.reboundItemId,
        grade: 'UNEXPECTED',
        disposition: 'RESALE_HOLD',
      });
    }
  }
  if (contents.chance(scenario.unexpectedItemRate)) {
    extras.push({ reboundItemId: input.newItemId(extraIds), cause: 'unexpectedItem', sku: null, replacesReboundItemId: null, grade: 'UNEXPECTED', disposition: 'RESALE_HOLD' });
  }
  // A unit held back for a later parcel, on a line that still has another unit in this one: drawn last, from a stream
  // of its own, so that worlds without it draw exactly as before.
  const heldBack = rng.fork('held-back');
  const sentByLine = new Map<string, number[]>();
  units.forEach((u, i) => {
    const id = input.units[i]?.clientItemId;
    if (u.fate === 'announced' && id !== undefined) sentByLine.set(id, [...(sentByLine.get(id) ?? []), i]);
  });
  const splittable = [...sentByLine.values()].filter((indexes) => indexes.length >= 2);
  if (splittable.length > 0 && heldBack.chance(scenario.heldBackUnitRate)) {
    const unit = units[heldBack.pick(heldBack.pick(splittable))];
    if (unit) unit.fate = 'notSent';
  }
  for (const unit of units) {
    // Every unit gets the condition it would arrive in, even one that is not sent: a test hook that forces it to
    // arrive then sees a stable grade. Views and truth report NOT_RECEIVED for units that never arrive.
    const graded = gradeUnit(grading, scenario, tuning);
    unit.grade = graded.grade;
    unit.disposition = graded.disposition;
  }

  return {
    isParcelSent,
    isDeliveredToClient,
    hub: fate.pick(hubs),
    carrier: fate.pick(carriers),
    durationsMs,
    expireAfterMs: tuning.expireAfterDays * DAY,
    units,
    extras,
  };
}

export function gradeUnit(rng: Rng, scenario: Scenario, tuning: PhysicalTuning): { grade: Grade; disposition: Disposition } {
  const roll = rng.float();
  if (roll < scenario.damagedRate) return { grade: 'D_DAMAGED', disposition: rng.pick(['DESTROY', 'RECYCLE'] as const) };
  if (roll < scenario.damagedRate + scenario.nonSellableRate) {
    return { grade: 'C_NON_SELLABLE', disposition: rng.pick(['RESALE_HOLD', 'RECYCLE', 'DONATE', 'RETURN_TO_CUSTOMER'] as const) };
  }
  if (rng.chance(tuning.minorWearRate)) return { grade: 'B_SELLABLE_MINOR', disposition: rng.pick(['RESTOCK', 'REFURBISH'] as const) };
  return { grade: 'A_SELLABLE', disposition: 'RESTOCK' };
}

export function defaultDisposition(grade: Grade): Disposition | null {
  switch (grade) {
    case 'A_SELLABLE':
    case 'B_SELLABLE_MINOR':
      return 'RESTOCK';
    case 'C_NON_SELLABLE':
      return 'RESALE_HOLD';
    case 'D_DAMAGED':
      return 'DESTROY';
    case 'UNEXPECTED':
      return 'RESALE_HOLD';
    case 'NOT_RECEIVED':
      return null;
  }
}

/** The milestones a parcel passes on its flow, in order (§6.4). */
export function flowPath(flow: ReboundFlow, isDeliveredToClient: boolean): MilestoneStatus[] {
  if (flow === 'DTR') return ['IN_CARRIER_NETWORK', 'DELIVERED_TO_CLIENT'];
  const path: MilestoneStatus[] = ['IN_CARRIER_NETWORK', 'AT_HUB', 'ITEMS_REGISTERED', 'PROCESSED'];
  return isDeliveredToClient ? [...path, 'DELIVERED_TO_CLIENT'] : path;
}

/** The milestones still to come after `from` (LABEL_ISSUED for a new order), timed from `fromAt`. */
export function scheduleAfter(flow: ReboundFlow, plan: PhysicalPlan, from: MilestoneStatus | 'LABEL_ISSUED', fromAt: number): { status: MilestoneStatus; at: number }[] {
  if (from === 'LABEL_ISSUED' && !plan.isParcelSent) return [{ status: 'EXPIRED', at: fromAt + plan.expireAfterMs }];
  const path = flowPath(flow, plan.isDeliveredToClient);
  const start = from === 'LABEL_ISSUED' ? 0 : path.indexOf(from) + 1;
  if (start === 0 && from !== 'LABEL_ISSUED') return [];
  let at = fromAt;
  return path.slice(start).map((status) => {
    at += legDuration(flow, plan.durationsMs, status);
    return { status, at };
  });
}

function legDuration(flow: ReboundFlow, d: Durations, status: MilestoneStatus): number {
  switch (status) {
    case 'IN_CARRIER_NETWORK':
      return d.network;
    case 'AT_HUB':
      return d.hub;
    case 'ITEMS_REGISTERED':
      return d.registered;
    case 'PROCESSED':
      return d.processed;
    case 'DELIVERED_TO_CLIENT':
      // DTR goes straight from the carrier to the retailer: one carrier leg, as long as the leg to a hub.
      return flow === 'DTR' ? d.hub : d.delivered;
    case 'EXPIRED':
      return 0;
  }
}

function minutesIn(rng: Rng, hours: Range): number {
  return rng.int(Math.round(hours[0] * 60), Math.round(hours[1] * 60)) * 60_000;
}

function pickIndexes(rng: Rng, length: number, count: number): number[] {
  const pool = Array.from({ length }, (_, i) => i);
  const chosen: number[] = [];
  while (chosen.length < count && pool.length > 0) {
    const at = rng.int(0, pool.length - 1);
    chosen.push(...pool.splice(at, 1));
  }
  return chosen;
}
