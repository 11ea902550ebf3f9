import type { CampaignPreviewDto } from '@parley/shared/campaign';
import { formatCount } from './campaign-progress';
import { RecipientState } from './states';

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/**
 * What a campaign will cost and who it will not reach, before anything is sent: encoding, segments,
 * "N segments × M recipients = T segments", and the rows that will be left out with their reasons.
 */
export function CampaignPreview({ preview, updating = false }: { preview: CampaignPreviewDto; updating?: boolean }) {
  const { counts, problems, sendable, segments, totalSegments } = preview;
  const csvErrors = preview.csvErrors ?? [];
  const leftOut = counts.invalid + counts.duplicate + counts.skipped;
  const exact = totalSegments === segments * sendable;
  return (
    <section className="campaign-preview" aria-label="Preview" aria-busy={updating} data-testid="campaign-preview">
      {csvErrors.length > 0 && (
        <div className="preview-csv-errors" role="alert" data-testid="preview-csv-errors">
          <h3 className="error">The CSV could not be read completely: {plural(csvErrors.length, 'line')} to fix before it can be sent</h3>
          <p className="muted small">Recipients on these lines (and any a broken quote ran into) are not counted below.</p>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  <th scope="col">What is wrong</th>
                </tr>
              </thead>
              <tbody>
                {csvErrors.map((e) => (
                  <tr key={e.line} data-line={e.line}>
                    <td className="num">{e.line}</td>
                    <td>{e.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      <dl className="preview-facts">
        <div>
          <dt>Encoding</dt>
          <dd data-testid="preview-encoding" className={preview.encoding === 'ucs2' ? 'warn-text' : undefined}>
            {preview.encoding === 'ucs2' ? 'Unicode' : 'GSM-7'}
          </dd>
        </div>
        <div>
          <dt>Per message</dt>
          <dd data-testid="preview-segments">{plural(segments, 'segment')}</dd>
        </div>
        <div>
          <dt>Will be sent to</dt>
          <dd data-testid="preview-sendable">
            {plural(sendable, 'recipient')} <span className="muted small">of {plural(counts.total, 'row')}</span>
          </dd>
        </div>
      </dl>
      <p className="preview-cost" data-testid="preview-cost">
        <strong>Cost:</strong> {plural(segments, 'segment')} × {plural(sendable, 'recipient')} ={' '}
        <strong>{plural(totalSegments, 'segment')}</strong>
        {!exact && <span className="muted small"> (counted per recipient: {'{name}'} changes the length)</span>}
      </p>
      {leftOut === 0 ? (
        counts.total > 0 && (
          <p className="ok small" data-testid="preview-all-valid">
            Every row is valid and will be sent.
          </p>
        )
      ) : (
        <div className="preview-problems">
          <h3>
            Not sent: {plural(leftOut, 'row')}
            <span className="muted small">
              {' '}
              (
              {[
                counts.invalid && plural(counts.invalid, 'invalid', 'invalid'),
                counts.duplicate && plural(counts.duplicate, 'duplicate'),
                counts.skipped && `${formatCount(counts.skipped)} opted out`,
              ]
                .filter(Boolean)
                .join(', ')}
              )
            </span>
          </h3>
          <div className="table-wrap">
            <table className="table" data-testid="preview-problems">
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  <th scope="col">As given</th>
                  <th scope="col">Problem</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {problems.map((problem) => (
                  <tr key={`${problem.line}-${problem.state}`} data-line={problem.line}>
                    <td className="num">{problem.line}</td>
                    <td className="mono">{problem.input || <span className="muted">(empty)</span>}</td>
                    <td>
                      <RecipientState state={problem.state} />
                    </td>
                    <td>{problem.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {problems.length < leftOut && (
            <p className="muted small">
              Showing the first {formatCount(problems.length)} of {formatCount(leftOut)}; the campaign's report lists them all.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
