import type { NumberDto, ProviderName } from '@parley/shared';
import { AppError } from './errors';

/** Our numbers, each on its provider (from the config), and the default for new conversations. */
export interface NumberRegistry {
  list(): NumberDto[];
  /** The number new conversations and campaigns use unless told otherwise. */
  defaultNumber(): NumberDto;
  find(number: string): NumberDto | undefined;
  /** `number` if it is one of ours, else the default; throws BAD_REQUEST for a number that is not ours. */
  pick(number?: string | null): NumberDto;
  providers(): ProviderName[];
}

/** What a webhook route needs to know: which numbers are ours, on which provider. */
export type OurNumbers = Pick<NumberRegistry, 'find'>;

/** Whether `number` is one of ours on `provider` (an inbound to any other `to` is not for Parley). */
export function isOurNumber(numbers: OurNumbers, provider: ProviderName, number: string): boolean {
  return numbers.find(number)?.provider === provider;
}

export function createNumberRegistry(numbers: NumberDto[]): NumberRegistry {
  if (numbers.length === 0) throw new Error('at least one number is required');
  const byNumber = new Map(numbers.map((n) => [n.number, n]));
  const fallback = numbers.find((n) => n.isDefault) ?? numbers[0];
  if (!fallback) throw new Error('at least one number is required');
  return {
    list: () => numbers.map((n) => ({ ...n })),
    defaultNumber: () => fallback,
    find: (number) => byNumber.get(number),
    pick(number) {
      if (number === undefined || number === null || number === '') return fallback;
      const found = byNumber.get(number);
      if (!found) {
        const ours = numbers.map((n) => n.number).join(', ');
        throw new AppError('BAD_REQUEST', `${number} is not one of Parley's numbers (${ours})`);
      }
      return found;
    },
    providers: () => [...new Set(numbers.map((n) => n.provider))],
  };
}
