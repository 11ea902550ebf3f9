/** Parley's SMS providers and the numbers it sends from (issue 6). */
export const PROVIDER_NAMES = ['vonage', 'plivo', 'sinch'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export const PROVIDER_LABELS: Record<ProviderName, string> = { vonage: 'Vonage', plivo: 'Plivo', sinch: 'Sinch' };

/** One of our numbers (E.164, or an alphanumeric sender id) and the provider it belongs to. */
export interface NumberDto {
  number: string;
  provider: ProviderName;
  /** true: the embedded sandbox stands in for the provider (no account, nothing leaves). */
  sandbox: boolean;
  /** New conversations use this number unless told otherwise. */
  isDefault: boolean;
}
