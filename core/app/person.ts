import { AsyncLocalStorage } from 'node:async_hooks';
import { personLabel } from '../contract/team';
import type { Role } from '../contract';
import type { SettingsRepo } from '../store/settings-repo';

// The person's name, as they set it in Settings ("Your name"), is the actor of everything they do: the audit log,
// a period's lock, an exception's assignee and notes, a bundle's maker. Until they set one, the OS account's full
// name stands in (core/adapters/person-name.ts). Read at each action, so a change applies from the next one.
//
// On a team server many people act through one core: each request runs inside `asPerson` with the account that
// signed in, and that account's name is the actor, whatever the server's Settings say.

export const personNameKey = 'person.name';
export const personNameMaxLength = 200;

export interface SignedInPerson {
  accountId: number;
  username: string;
  displayName: string;
  roles: Role[];
}

const signedIn = new AsyncLocalStorage<SignedInPerson>();

/** Runs `work` (and everything it awaits) as `person`'s action. */
export function asPerson<T>(person: SignedInPerson, work: () => T): T {
  return signedIn.run(person, work);
}

/** A change a second person approved (maker-checker): run as the approver's action, on the proposer's behalf. */
export interface Approval {
  proposalId: number;
  /** The proposer, as the audit log names people. */
  proposedBy: string;
}

const approved = new AsyncLocalStorage<Approval>();

/** Runs `work` (and everything it awaits) as the change `approval` describes, so what it records names the proposer. */
export function asApproved<T>(approval: Approval, work: () => T): T {
  return approved.run(approval, work);
}

/** The approved proposal this call runs, or undefined (a person's own action, the engine). */
export function currentApproval(): Approval | undefined {
  return approved.getStore();
}

/** The team server's signed-in person this call runs for, or undefined (the desktop app, the engine). */
export function currentPerson(): SignedInPerson | undefined {
  return signedIn.getStore();
}

// A person's name as the audit log shows it: "Ana Ruiz (ana)" (in the contract: the renderer tells whose a signature is).
export { personLabel } from '../contract/team';

/** The actor of people's actions: the signed-in account on a team server, else the name set in Settings, or `osName`. */
export function personActor(settings: SettingsRepo, osName: string): () => string {
  return () => {
    const person = currentPerson();
    return person ? personLabel(person) : (settings.get(personNameKey) ?? osName);
  };
}
