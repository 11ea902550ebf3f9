import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { errorMessage } from '../lib/errors';
import { trpc } from '../trpc';
import { PhoneInput, phoneOrNull } from './phone-input';
import { NumberSelect } from '../lib/numbers';

/** Sandbox provider only: a text "from" a phone, through the real signed webhook path. */
export function SandboxPanel({ onClose }: { onClose: () => void }) {
  const [from, setFrom] = useState('+447700900123');
  const [text, setText] = useState('');
  const [to, setTo] = useState('');
  const [photo, setPhoto] = useState(false);
  const simulate = useMutation(trpc.sandbox.simulateInbound.mutationOptions({ onSuccess: () => setText('') }));
  const e164 = phoneOrNull(from);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (e164 && (text.trim() !== '' || photo))
      simulate.mutate({ from: e164, text, ...(to ? { to } : {}), ...(photo ? { sample: true } : {}) });
  };

  return (
    <form className="sandbox-panel" onSubmit={submit} aria-labelledby="sandbox-title">
      <div className="sandbox-head">
        <h2 id="sandbox-title">Sandbox: simulate an inbound text</h2>
        <button className="button ghost" type="button" onClick={onClose} aria-label="Close the sandbox panel">
          ✕
        </button>
      </div>
      <div className="sandbox-fields">
        <PhoneInput id="sandbox-from" label="From" value={from} onChange={setFrom} />
        <NumberSelect id="sandbox-to" label="To" value={to} onChange={setTo} allLabel="Default number" />
        <label className="field grow" htmlFor="sandbox-text">
          <span>Text</span>
          <input id="sandbox-text" value={text} onChange={(e) => setText(e.target.value)} placeholder="Hi, is my order on its way?" />
        </label>
        <label className="inline-field check sandbox-photo" htmlFor="sandbox-photo">
          <input id="sandbox-photo" type="checkbox" checked={photo} onChange={(e) => setPhoto(e.target.checked)} />
          <span>With a photo (MMS)</span>
        </label>
        <button className="button primary" type="submit" disabled={!e164 || (text.trim() === '' && !photo) || simulate.isPending}>
          Receive
        </button>
      </div>
      <p className="muted small">
        Test numbers for replies: +447700900666 is rejected, +447700900500 undeliverable, +447700900429 throttled twice. Texting STOP opts
        the number out. Photos (MMS) go through US numbers only: send to the Plivo or Sinch number from a +1 phone to reply with one.
      </p>
      {simulate.error && (
        <p className="error" role="alert">
          {errorMessage(simulate.error)}
        </p>
      )}
      {simulate.isSuccess && (
        <p className="ok small" role="status">
          Received.
        </p>
      )}
    </form>
  );
}
