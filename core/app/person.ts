import type { SettingsRepo } from '../store/settings-repo';

// The person's name, as they set it in Settings ("Your name"), is the actor of everything they do: the audit log,
// a period's lock, an exception's assignee and notes, a bundle's maker. Until they set one, the OS account's full
// name stands in (core/adapters/person-name.ts). Read at each action, so a change applies from the next one.

export const personNameKey = 'person.name';
export const personNameMaxLength = 200;

/** The actor of people's actions: the name set in Settings, or `osName`. */
export function personActor(settings: SettingsRepo, osName: string): () => string {
  return () => settings.get(personNameKey) ?? osName;
}
