/**
 * What an attachment is, judged by its bytes (file-type's magic numbers), never by a URL's extension
 * or a claimed Content-Type. Only the types below are kept; anything else is refused with a reason.
 */
import { fileTypeFromBuffer } from 'file-type';

/** Types Parley keeps from inbound MMS (and serves back), with a readable name for refusals. */
export const ACCEPTED_TYPES: Readonly<Record<string, string>> = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
  'image/heic': 'HEIC',
  'image/heif': 'HEIF',
  'application/pdf': 'PDF',
  'video/mp4': 'MP4',
  'video/3gpp': '3GP',
  'video/quicktime': 'QuickTime',
  'audio/mpeg': 'MP3',
  'audio/amr': 'AMR',
  'text/vcard': 'vCard',
};

/** What agents may attach to an outbound MMS: the images every provider (Vonage's spec: .jpg, .png, .gif) takes. */
export const SENDABLE_TYPES = ['image/jpeg', 'image/png', 'image/gif'] as const;

export type Sniffed = { ok: true; contentType: string; ext: string } | { ok: false; reason: string };

const family = (type: string): string => type.split('/')[0] ?? '';

/** vCard is text: file-type does not know it; its first line is `BEGIN:VCARD`. */
function isVcard(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 64))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return /^BEGIN:VCARD\r?\n/i.test(head);
}

/**
 * The attachment's real type. Refused when the bytes are of no accepted type, or when they are of
 * another kind than claimed (a "photo" that is a PDF); a claimed image/jpeg that is a PNG is kept as PNG.
 */
export async function sniffMedia(
  bytes: Uint8Array,
  claimed: string | null,
  accepted: readonly string[] = Object.keys(ACCEPTED_TYPES),
): Promise<Sniffed> {
  const claim = claimed?.split(';')[0]?.trim().toLowerCase() || null;
  const found = isVcard(bytes) ? { mime: 'text/vcard', ext: 'vcf' } : await fileTypeFromBuffer(bytes);
  const said = claim ? ` (it claims ${claim})` : '';
  const allowed = accepted.map((t) => ACCEPTED_TYPES[t] ?? t).join(', ');
  if (!found) return { ok: false, reason: `content is not a recognised file type${said}: accepted are ${allowed}` };
  // file-type names HEIF/HEIC images by brand; normalise the few aliases it reports.
  const mime = found.mime === 'image/heic-sequence' ? 'image/heic' : found.mime === 'image/heif-sequence' ? 'image/heif' : found.mime;
  if (!accepted.includes(mime)) return { ok: false, reason: `content is ${mime}${said}, which is not accepted: accepted are ${allowed}` };
  if (
    claim &&
    claim !== 'application/octet-stream' &&
    family(claim) !== family(mime) &&
    !(claim.startsWith('text/x-vcard') && mime === 'text/vcard')
  ) {
    return { ok: false, reason: `content is ${mime} but it claims ${claim}` };
  }
  return { ok: true, contentType: mime, ext: found.ext };
}

/** "5 MB" for limits in messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}
