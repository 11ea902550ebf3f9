import { describe, expect, it } from 'vitest';
import { describeSinchSendError, sinchCodeReason, sinchStatusToParley } from './errors';

describe('sinchStatusToParley', () => {
  it.each([
    ['Queued', null],
    ['Dispatched', 'submitted'],
    ['Unknown', 'submitted'],
    ['Delivered', 'delivered'],
    ['Rejected', 'rejected'],
    ['Aborted', 'rejected'],
    ['Cancelled', 'rejected'],
    ['Failed', 'undeliverable'],
    ['Expired', 'undeliverable'],
    ['Deleted', 'undeliverable'],
    ['delivered', 'delivered'],
    ['SomethingNew', null],
  ])('%s → %s', (status, expected) => {
    expect(sinchStatusToParley(status)).toBe(expected);
  });
});

describe('sinchCodeReason', () => {
  it("reads Sinch's own 4xx codes (not HTTP statuses)", () => {
    expect(sinchCodeReason(0, 'Delivered')).toBe('Delivered');
    expect(sinchCodeReason(401, 'Dispatched')).toBe('Dispatched to the operator');
    expect(sinchCodeReason(402, 'Aborted')).toBe('Message unroutable');
    expect(sinchCodeReason(407, 'Cancelled')).toBe('Cancelled');
    expect(sinchCodeReason(412, 'Aborted')).toBe('Destination region not provisioned on the Sinch account');
    expect(sinchCodeReason(413, 'Aborted')).toBe('Sinch account blocked (possibly out of credit)');
    expect(sinchCodeReason(416, 'Failed')).toBe('MMS delivery error (Sinch code 416)');
  });

  it('reads other codes as SMPP codes, with the number and the status', () => {
    expect(sinchCodeReason(34, 'Failed')).toBe('Operator reported Failed (SMPP error code 34)');
    expect(sinchCodeReason(11, 'Rejected')).toBe('Operator reported Rejected (SMPP error code 11)');
  });
});

describe('describeSinchSendError', () => {
  it('decides retrying by the HTTP status whatever the code', () => {
    expect(describeSinchSendError({ httpStatus: 429, code: 'syntax_invalid_json' })).toMatchObject({
      retryable: true,
      reason: 'Throttled by Sinch',
    });
    expect(describeSinchSendError({ httpStatus: 500 })).toEqual({
      code: 'http_500',
      reason: 'Sinch had an internal error',
      retryable: true,
    });
    expect(describeSinchSendError({ httpStatus: 401, code: 'blocked_account' }).retryable).toBe(false);
    expect(describeSinchSendError({ httpStatus: 415 })).toMatchObject({
      retryable: false,
      reason: 'Sinch refused the Content-Type of the request',
    });
    expect(describeSinchSendError({ httpStatus: 409 })).toEqual({ code: 'http_409', reason: 'Sinch answered HTTP 409', retryable: false });
  });
});
