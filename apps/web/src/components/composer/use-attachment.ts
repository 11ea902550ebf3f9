import { useState } from 'react';

/** What the composer may attach (every provider sends these; the server checks the bytes again). */
export const SENDABLE_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif'];

export interface Attached {
  id: number;
  contentType: string;
  size: number;
  name: string | null;
  url: string;
}

/** One picture for the next reply: uploaded at once (POST /media), shown as a thumbnail, removable; readable errors. */
export function useAttachment() {
  const [attachment, setAttachment] = useState<Attached | null>(null);
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const upload = (file: File) => {
    setError(null);
    if (file.type !== '' && !SENDABLE_IMAGE_TYPES.includes(file.type)) {
      setError(`“${file.name}” is not a picture Parley can send: attach a JPEG, PNG or GIF image.`);
      return;
    }
    const form = new FormData();
    form.append('file', file, file.name);
    setUploading(true);
    void fetch('/media', { method: 'POST', body: form, credentials: 'same-origin' })
      .then(async (res) => {
        const body = (await res.json().catch(() => ({}))) as {
          id?: number;
          contentType?: string;
          size?: number;
          name?: string | null;
          error?: string;
        };
        if (!res.ok || body.id === undefined) {
          setError(body.error ?? `The picture could not be attached (HTTP ${res.status}).`);
          return;
        }
        setAttachment({
          id: body.id,
          contentType: body.contentType ?? file.type,
          size: body.size ?? file.size,
          name: body.name ?? file.name,
          url: `/media/${body.id}`,
        });
      })
      .catch(() => setError('The picture could not be attached: the server did not answer.'))
      .finally(() => setUploading(false));
  };
  return {
    attachment,
    uploading,
    error,
    upload,
    clear: () => {
      setAttachment(null);
      setError(null);
    },
  };
}
