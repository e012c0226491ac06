import { useEffect, useId, useState } from 'react';
import type { SettingsView } from '../../../../core/contract';
import { useSettingsStore } from './store';

/** "Your name": what the audit log, a lock, an assignment or a note records as who did it. */
export function PersonForm({ person }: { person: NonNullable<SettingsView['person']> }) {
  const setName = useSettingsStore((s) => s.setName);
  const [name, setDraft] = useState(person.isSet ? person.name : '');
  const [error, setError] = useState<string | null>(null);
  const [isSaving, setSaving] = useState(false);
  const id = useId();
  useEffect(() => setDraft(person.isSet ? person.name : ''), [person]);

  return (
    <form
      className="stack connections person"
      aria-label="Your name"
      onSubmit={(e) => {
        e.preventDefault();
        setSaving(true);
        void setName(name).then((problem) => {
          setSaving(false);
          setError(problem);
        });
      }}
    >
      <fieldset>
        <legend>Your name</legend>
        <div className="field">
          <label htmlFor={id}>Your name</label>
          <input
            id={id}
            type="text"
            value={name}
            placeholder={person.osName}
            maxLength={200}
            autoComplete="name"
            aria-invalid={Boolean(error)}
            aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
            onChange={(e) => setDraft(e.target.value)}
          />
          <div id={`${id}-hint`} className="muted small-text" data-testid="person-hint">
            What the audit log and every record of who did something shows for your actions: now “{person.name}”.
            {person.isSet ? ` Leave it empty to use this computer’s name for you (“${person.osName}”).` : ' This is your computer account’s name until you set one.'}
          </div>
          {error && (
            <div id={`${id}-error`} className="field-error" role="alert">
              {error}
            </div>
          )}
        </div>
        <div className="row-actions">
          <button type="submit" disabled={isSaving}>
            {isSaving ? 'Saving…' : 'Save name'}
          </button>
        </div>
      </fieldset>
    </form>
  );
}
