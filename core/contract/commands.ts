import { z } from 'zod';
import {
  actResultsSchema,
  auditVerifyOutput,
  exceptionHelpSchema,
  exceptionNoteSchema,
  exceptionsActInput,
  exceptionsAssignInput,
  exceptionsCommentInput,
  exceptionsReopenInput,
  exceptionsResolveInput,
  exceptionsSnoozeInput,
  matchDecideInput,
  refundNowInput,
  refundNowOutput,
} from './exceptions';
import { exceptionsActionsInput, exceptionsActionsOutput } from './actions';
import { explainRefundGuardInputSchema, explainReturnInputSchema, refundLineSchema, returnTimelineSchema } from './explain';
import { exceptionRowSchema, exceptionsListInput, exceptionsListOutput, kpisOutput, returnsListInput, returnsListOutput } from './queries';
import { bundleInfoSchema, reportCommands } from './reports';
import { teamCommands } from './team';
import {
  outgoingListInput,
  outgoingListOutput,
  suggestionsListInput,
  suggestionsListOutput,
  writesFreezeInput,
  writesStatusOutput,
} from './operations';

import {
  auditListInput,
  auditListOutput,
  mappingsGetOutput,
  mappingsPreviewInput,
  mappingsReasonsInput,
  mappingsReasonsOutput,
  mappingsPreviewOutput,
  mappingsSaveInput,
  mappingsSaveOutput,
  modeSchema,
  saveConnectionsInput,
  saveConnectionsOutput,
  setCadencesInput,
  settingsGetOutput,
  setNameInput,
  syncStatusSchema,
  testConnectionInput,
  testConnectionOutput,
} from './settings';

const empty = z.object({}).strict();

// Every command is `domain.verb` with a zod input and output. Electron IPC and the web host serve exactly this map.
export const commands = {
  'app.info': {
    input: empty,
    output: z.object({
      name: z.string(),
      version: z.string(),
      dataDir: z.string(),
      databaseFile: z.string(),
      mode: modeSchema,
      schemaVersion: z.number().int().nonnegative(),
      startedAt: z.string(),
      /** Set when the app shows an evidence bundle (read-only) instead of a live database. */
      bundle: bundleInfoSchema.optional(),
    }),
  },
  'sync.status': { input: empty, output: syncStatusSchema },
  'sync.pause': { input: empty, output: syncStatusSchema },
  'sync.resume': { input: empty, output: syncStatusSchema },
  'sync.runNow': { input: empty, output: syncStatusSchema },
  'settings.get': { input: empty, output: settingsGetOutput },
  'settings.saveConnections': { input: saveConnectionsInput, output: saveConnectionsOutput },
  'settings.testConnection': { input: testConnectionInput, output: testConnectionOutput },
  'settings.setName': { input: setNameInput, output: settingsGetOutput },
  'settings.setCadences': { input: setCadencesInput, output: mappingsSaveOutput },
  'mappings.get': { input: empty, output: mappingsGetOutput },
  'mappings.preview': { input: mappingsPreviewInput, output: mappingsPreviewOutput },
  'mappings.save': { input: mappingsSaveInput, output: mappingsSaveOutput },
  /** Mirakl's return and refund reasons (RE01, cached for offline use) for the mapping editor to pick from. */
  'mappings.reasons': { input: mappingsReasonsInput, output: mappingsReasonsOutput },
  'audit.list': { input: auditListInput, output: auditListOutput },
  'returns.list': { input: returnsListInput, output: returnsListOutput },
  'returns.explain': { input: explainReturnInputSchema, output: returnTimelineSchema },
  'refunds.explainGuard': { input: explainRefundGuardInputSchema, output: refundLineSchema },
  'refunds.refundNow': { input: refundNowInput, output: refundNowOutput },
  'exceptions.list': { input: exceptionsListInput, output: exceptionsListOutput },
  'exceptions.get': { input: z.object({ id: z.number().int().positive() }).strict(), output: exceptionRowSchema },
  'exceptions.help': { input: z.object({ type: z.string().min(1).max(60) }).strict(), output: exceptionHelpSchema },
  /** Which actions each exception offers now, and why not the others (read-only: nothing is done). */
  'exceptions.actions': { input: exceptionsActionsInput, output: exceptionsActionsOutput },
  'exceptions.act': { input: exceptionsActInput, output: actResultsSchema },
  'exceptions.resolve': { input: exceptionsResolveInput, output: actResultsSchema },
  'exceptions.assign': { input: exceptionsAssignInput, output: z.object({ updated: z.number().int() }) },
  'exceptions.comment': { input: exceptionsCommentInput, output: z.object({ noteId: z.number().int() }) },
  'exceptions.notes': { input: z.object({ id: z.number().int().positive() }).strict(), output: z.object({ notes: z.array(exceptionNoteSchema) }) },
  'exceptions.snooze': { input: exceptionsSnoozeInput, output: z.object({ updated: z.number().int() }) },
  'exceptions.reopen': { input: exceptionsReopenInput, output: exceptionRowSchema },
  'matches.decide': { input: matchDecideInput, output: z.object({ ok: z.literal(true) }) },
  /** The matcher's open suggestions (suggested or ambiguous), for a person to confirm or reject. */
  'matches.suggestions': { input: suggestionsListInput, output: suggestionsListOutput },
  /** Every call to Mirakl and ReBound that changes something (the intent ledger), with its state and what a probe proved. */
  'outgoing.list': { input: outgoingListInput, output: outgoingListOutput },
  /** Whether writes to Mirakl and ReBound are frozen (DESIGN row 27), and how many calls wait. */
  'writes.status': { input: empty, output: writesStatusOutput },
  /** Stops every call that changes Mirakl or ReBound (reads go on) until lifted; audited. */
  'writes.freeze': { input: writesFreezeInput, output: writesStatusOutput },
  /** Lifts the freeze: the waiting calls go out at the next cycle; audited. */
  'writes.unfreeze': { input: writesFreezeInput, output: writesStatusOutput },
  'dashboard.kpis': { input: empty, output: kpisOutput },
  'audit.verify': { input: empty, output: auditVerifyOutput },
  'guide.get': { input: empty, output: z.object({ markdown: z.string() }) },
  ...reportCommands,
  ...teamCommands,
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export type Commands = typeof commands;
export type Command = keyof Commands;
export type Input<K extends Command> = z.input<Commands[K]['input']>;
/** What a handler receives: the input after the contract's schema has parsed it (defaults filled in). */
export type ParsedInput<K extends Command> = z.output<Commands[K]['input']>;
export type Output<K extends Command> = z.output<Commands[K]['output']>;

export function isCommand(name: string): name is Command {
  return Object.prototype.hasOwnProperty.call(commands, name);
}
