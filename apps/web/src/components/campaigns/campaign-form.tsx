import { useEffect, useMemo, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { CampaignCreatedDto, CampaignPreviewDto } from '@parley/shared/campaign';
import { errorMessage } from '../../lib/errors';
import { NumberSelect } from '../../lib/numbers';
import { useDebounced } from '../../lib/use-debounced';
import { queryClient, trpc } from '../../trpc';
import { SmsCounter } from '../sms-counter';
import { CampaignPreview } from './campaign-preview';
import { countRows, parseRecipients, type RecipientsInput } from './recipients';

/** The server takes CSVs up to 32 MB (shared/campaign.ts). */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
const PASTE_PLACEHOLDER = 'phone,name\n+447700900123,Alice\n+447700900124,Bob';

interface PreviewInput {
  text: string;
  recipients: RecipientsInput;
  from?: string;
}

interface CsvFile {
  name: string;
  text: string;
}

/**
 * A new campaign: name, message (with the SMS counter), recipients from a CSV file or pasted, and —
 * before Send — the server's preview: encoding, segments, cost and the rows it will leave out.
 */
export function CampaignForm({ onCreated }: { onCreated: (campaign: CampaignCreatedDto) => void }) {
  const [name, setName] = useState('');
  const [text, setText] = useState('');
  const [from, setFrom] = useState('');
  const [pasted, setPasted] = useState('');
  const [file, setFile] = useState<CsvFile | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);

  const source = file?.text ?? pasted;
  const recipients = useMemo(() => parseRecipients(source), [source]);
  const rows = useMemo(() => countRows(source), [source]);
  const previewInput = useMemo<PreviewInput | null>(
    () => (text.trim() !== '' && recipients !== null ? { text, recipients, ...(from ? { from } : {}) } : null),
    [text, recipients, from],
  );
  const debounced = useDebounced(previewInput, 350);

  // The last preview answered for the latest input (an older answer arriving late is dropped).
  const latest = useRef(debounced);
  latest.current = debounced;
  const [result, setResult] = useState<{ input: PreviewInput; data: CampaignPreviewDto } | null>(null);
  const preview = useMutation(
    trpc.campaign.preview.mutationOptions({
      onSuccess: (data, input) => {
        if (input === latest.current) setResult({ input, data });
      },
    }),
  );
  const { mutate: runPreview, reset: resetPreview } = preview;
  useEffect(() => {
    if (debounced) runPreview(debounced);
    else resetPreview();
  }, [debounced, runPreview, resetPreview]);

  const create = useMutation(
    trpc.campaign.create.mutationOptions({
      onSuccess: (campaign) => {
        queryClient.setQueryData(trpc.campaign.get.queryKey({ id: campaign.id }), campaign);
        void queryClient.invalidateQueries({ queryKey: trpc.campaign.list.pathKey() });
        onCreated(campaign);
      },
    }),
  );

  // Send only on a preview of exactly what is in the form now (not a keystroke ago).
  const current = result && result.input === previewInput ? result.data : null;
  const updating = previewInput !== null && (previewInput !== debounced || preview.isPending);
  const previewError = preview.isError && preview.variables === previewInput ? preview.error : null;
  // A file that did not parse completely is never sent: the server refuses it too.
  const unreadable = current !== null && (current.csvErrors?.length ?? 0) > 0;
  const ready = name.trim() !== '' && current !== null && current.sendable > 0 && !unreadable && !create.isPending;

  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0];
    event.target.value = '';
    setFileError(null);
    if (!chosen) return;
    if (chosen.size > MAX_FILE_BYTES) {
      setFileError(`${chosen.name} is ${(chosen.size / 1024 / 1024).toFixed(1)} MB; the most a campaign takes is 32 MB.`);
      return;
    }
    try {
      setFile({ name: chosen.name, text: await chosen.text() });
    } catch {
      setFileError(`Could not read ${chosen.name}.`);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!ready || !previewInput) return;
    create.mutate({ name: name.trim(), ...previewInput });
  };

  const missing =
    name.trim() === '' ? 'Name the campaign' : text.trim() === '' ? 'Type the message' : recipients === null ? 'Add recipients' : null;

  return (
    <form className="campaign-form card" onSubmit={submit} aria-labelledby="campaign-form-title">
      <h2 id="campaign-form-title">New campaign</h2>
      <label className="field" htmlFor="campaign-name">
        <span>Name</span>
        <input
          id="campaign-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="Spring sale reminder"
          maxLength={200}
        />
      </label>
      <NumberSelect id="campaign-from" label="Send from" value={from} onChange={setFrom} />
      <label className="field" htmlFor="campaign-text">
        <span>Message</span>
        <textarea
          id="campaign-text"
          rows={4}
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="Hi {name}, our spring sale starts tomorrow. Reply STOP to opt out."
          aria-describedby="campaign-text-hint"
        />
      </label>
      <SmsCounter text={text} />
      <p id="campaign-text-hint" className="hint">
        <code>{'{name}'}</code> becomes each recipient’s name from the CSV’s <code>name</code> column (or is left out when there is none).
        Contacts who opted out (STOP) are skipped.
      </p>

      <fieldset className="recipients-field">
        <legend>Recipients</legend>
        <div className="file-row">
          <label className="button" htmlFor="campaign-file">
            Upload CSV…
          </label>
          <input
            id="campaign-file"
            className="visually-hidden"
            type="file"
            accept=".csv,.txt,text/csv,text/plain"
            onChange={(e) => void onFile(e)}
            aria-describedby="campaign-file-hint"
          />
          {file ? (
            <span className="file-chip" data-testid="campaign-file">
              <strong>{file.name}</strong> · {rows} {rows === 1 ? 'row' : 'rows'}
              <button className="button ghost small-button" type="button" onClick={() => setFile(null)} aria-label={`Remove ${file.name}`}>
                ✕
              </button>
            </span>
          ) : (
            <span id="campaign-file-hint" className="hint">
              A header row naming the phone column (phone, number, mobile, msisdn or to) and optionally name.
            </span>
          )}
        </div>
        {fileError && (
          <p className="error" role="alert">
            {fileError}
          </p>
        )}
        {!file && (
          <div className="field">
            <label htmlFor="campaign-paste">Or paste them</label>
            <textarea
              id="campaign-paste"
              rows={5}
              className="mono"
              value={pasted}
              onChange={(e) => setPasted(e.target.value)}
              placeholder={PASTE_PLACEHOLDER}
              aria-describedby="campaign-paste-hint"
            />
            <span id="campaign-paste-hint" className="hint">
              A CSV with its header, or one number a line (optionally “number, name”).
            </span>
          </div>
        )}
      </fieldset>

      {previewError && (
        <p className="error" role="alert" data-testid="preview-error">
          {errorMessage(previewError)}
        </p>
      )}
      {previewInput !== null && result && !previewError && <CampaignPreview preview={result.data} updating={current === null} />}
      {previewInput !== null && !result && updating && (
        <p className="muted small" aria-live="polite">
          Checking the recipients…
        </p>
      )}

      {create.error && (
        <p className="error" role="alert">
          {errorMessage(create.error)}
        </p>
      )}
      <div className="form-actions">
        <span className="muted small">
          {missing ??
            (updating
              ? 'Checking…'
              : unreadable
                ? 'Fix the CSV lines listed above first'
                : current && current.sendable === 0
                  ? 'No recipient can be sent to'
                  : '')}
        </span>
        <button className="button primary" type="submit" disabled={!ready}>
          {create.isPending
            ? 'Sending…'
            : current && current.sendable > 0
              ? `Send to ${current.sendable} ${current.sendable === 1 ? 'recipient' : 'recipients'}`
              : 'Send'}
        </button>
      </div>
    </form>
  );
}
