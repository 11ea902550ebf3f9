/** Every provider Parley speaks, in one list: a new provider's adapter is added here (CONTRIBUTING.md). */
import type { ProviderAdapter } from './adapter';
import { plivo } from './plivo';
import { sinch } from './sinch';
import { vonage } from './vonage';

export const PROVIDERS: readonly ProviderAdapter[] = [vonage, plivo, sinch];
