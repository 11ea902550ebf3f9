/** How a contact was opted out, in words. */
export function optOutSourceLabel(source: string | null): string {
  switch (source) {
    case 'keyword':
      return 'texted STOP';
    case 'agent':
      return 'by an agent';
    case 'import':
      return 'imported';
    case 'api':
      return 'through the API';
    case 'erasure':
      return 'opted out before an erasure';
    default:
      return source ?? 'unknown';
  }
}
