import { useMutation } from '@tanstack/react-query';
import { errorMessage } from '../../lib/errors';
import { queryClient, trpc } from '../../trpc';

/** Downloads the opt-out list as the server writes it (phone, name, when, how), through a Blob. */
export function ExportOptOuts({ admin }: { admin: boolean }) {
  const exportCsv = useMutation({
    mutationFn: () => queryClient.fetchQuery({ ...trpc.contact.exportOptOuts.queryOptions(), staleTime: 0 }),
    onSuccess: ({ filename, csv }) => {
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = filename;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1_000);
    },
  });
  return (
    <span className="export">
      {exportCsv.isSuccess && (
        <span className="ok small" role="status">
          {exportCsv.data.count} {exportCsv.data.count === 1 ? 'opt-out' : 'opt-outs'} exported.
        </span>
      )}
      {exportCsv.error && (
        <span className="error small" role="alert">
          {errorMessage(exportCsv.error)}
        </span>
      )}
      <span title={admin ? undefined : 'Only an admin can export the opt-out list'}>
        <button className="button" type="button" onClick={() => exportCsv.mutate()} disabled={!admin || exportCsv.isPending}>
          {exportCsv.isPending ? 'Exporting…' : 'Export opt-outs (CSV)'}
        </button>
      </span>
    </span>
  );
}
