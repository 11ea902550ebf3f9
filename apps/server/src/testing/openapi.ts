/**
 * Spec-driven validation of what we send to Vonage, for tests and the mock.
 *
 * Loads Vonage's published Messages OpenAPI spec from `apps/server/test/fixtures/vonage/` (a verbatim
 * copy, see the README there), picks the SMS text variant of the send-message request body,
 * inlines its `$ref`s and compiles it with ajv.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** apps/server/src/testing → ../../ is apps/server. */
export const MESSAGES_SPEC_PATH = fileURLToPath(new URL('../../test/fixtures/vonage/messages-openapi.yml', import.meta.url));

let specCache: JsonObject | undefined;
let validatorCache: ValidateFunction | undefined;
let mmsValidatorCache: ValidateFunction | undefined;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The published spec, parsed (not patched). */
export function loadMessagesSpec(): JsonObject {
  if (!specCache) {
    const doc: unknown = parse(readFileSync(MESSAGES_SPEC_PATH, 'utf8'));
    if (!isObject(doc)) throw new Error(`${MESSAGES_SPEC_PATH}: not an OpenAPI document`);
    specCache = doc;
  }
  return specCache;
}

function lookup(doc: JsonObject, ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`openapi: only local $refs are supported, got ${ref}`);
  let node: Json = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !(key in node)) throw new Error(`openapi: unresolvable $ref ${ref}`);
    node = node[key] ?? null;
  }
  return node;
}

/** Inline every local $ref and turn OpenAPI 3.0 `nullable` into JSON Schema. */
function resolve(doc: JsonObject, node: Json, stack: string[] = []): Json {
  if (Array.isArray(node)) return node.map((item) => resolve(doc, item, stack));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    if (stack.includes(ref)) throw new Error(`openapi: circular $ref ${ref}`);
    return resolve(doc, lookup(doc, ref), [...stack, ref]);
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    // `example`s and `x-*` extensions are documentation only.
    if (key === 'example' || key.startsWith('x-')) continue;
    out[key] = resolve(doc, value, stack);
  }
  if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  delete out.nullable;
  return out;
}

function sendOperation(doc: JsonObject): JsonObject {
  const paths = doc.paths;
  if (!isObject(paths)) throw new Error('openapi: no paths');
  for (const item of Object.values(paths)) {
    if (isObject(item) && isObject(item.post) && item.post.operationId === 'SendMessage') return item.post;
  }
  throw new Error('openapi: operation SendMessage not found');
}

/** The SMS text variant: requestBody → oneOf[title=SMS] → oneOf[0] (allOf Text + channelOptionsSms). */
function smsRequestSchema(doc: JsonObject): Json {
  const body = sendOperation(doc).requestBody;
  const content = isObject(body) ? body.content : undefined;
  const json = isObject(content) ? content['application/json'] : undefined;
  const schema = isObject(json) ? json.schema : undefined;
  const variants = isObject(schema) ? schema.oneOf : undefined;
  const sms = Array.isArray(variants) ? variants.find((v) => isObject(v) && v.title === 'SMS') : undefined;
  const smsVariants = isObject(sms) ? sms.oneOf : undefined;
  const text = Array.isArray(smsVariants) ? smsVariants[0] : undefined;
  if (text === undefined) throw new Error('openapi: SMS text request schema not found');
  return text;
}

/** The MMS image variant: requestBody → oneOf[title=MMS] → oneOf[0] (allOf Image + image.url/caption + channelOptionsMms). */
function mmsImageRequestSchema(doc: JsonObject): Json {
  const body = sendOperation(doc).requestBody;
  const content = isObject(body) ? body.content : undefined;
  const json = isObject(content) ? content['application/json'] : undefined;
  const schema = isObject(json) ? json.schema : undefined;
  const variants = isObject(schema) ? schema.oneOf : undefined;
  const mms = Array.isArray(variants) ? variants.find((v) => isObject(v) && v.title === 'MMS') : undefined;
  const mmsVariants = isObject(mms) ? mms.oneOf : undefined;
  const image = Array.isArray(mmsVariants) ? mmsVariants[0] : undefined;
  if (image === undefined) throw new Error('openapi: MMS image request schema not found');
  return image;
}

/**
 * PATCH (documented in test/fixtures/vonage/README.md):
 * `components.schemas.baseMessageType.required` lists `message`, a Messages v0.1 leftover that
 * neither the v1 API nor the SDK sends. Dropping it is the only change made to the published spec.
 */
function patchedCopy(doc: JsonObject): JsonObject {
  const copy = structuredClone(doc);
  const base = lookup(copy, '#/components/schemas/baseMessageType');
  if (isObject(base) && Array.isArray(base.required)) {
    base.required = base.required.filter((name) => name !== 'message');
  }
  return copy;
}

function mmsValidator(): ValidateFunction {
  if (!mmsValidatorCache) {
    const doc = patchedCopy(loadMessagesSpec());
    const schema = resolve(doc, mmsImageRequestSchema(doc));
    if (!isObject(schema)) throw new Error('openapi: MMS request schema is not an object');
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    mmsValidatorCache = ajv.compile(schema);
  }
  return mmsValidatorCache;
}

function validator(): ValidateFunction {
  if (!validatorCache) {
    const doc = patchedCopy(loadMessagesSpec());
    const schema = resolve(doc, smsRequestSchema(doc));
    if (!isObject(schema)) throw new Error('openapi: SMS request schema is not an object');
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    validatorCache = ajv.compile(schema);
  }
  return validatorCache;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(body)' : error.instancePath.slice(1).replace(/\//g, '.');
  return `${where}: ${error.message ?? error.keyword}`;
}

/**
 * Limits the spec states only in prose (descriptions and the x-errors table), checked so a mock
 * catches what real Vonage would refuse: E.164 numbers without `+`/`00`, text ≤ 1000 characters,
 * client_ref ≤ 40 characters (error 1450).
 */
function proseChecks(body: JsonObject): string[] {
  const errors: string[] = [];
  const { to, from, text, client_ref: clientRef } = body;
  if (typeof to === 'string' && !/^[1-9][0-9]{6,14}$/.test(to)) {
    errors.push('to: must be E.164 digits without a leading + or 00 (spec: ToNumber description)');
  }
  if (typeof from === 'string' && /^(\+|00)/.test(from)) {
    errors.push('from: must not start with + or 00 (spec: FromNumber description)');
  }
  if (typeof text === 'string' && [...text].length > 1000) {
    errors.push('text: must be at most 1000 characters (spec: SMS text description)');
  }
  if (typeof clientRef === 'string' && clientRef.length > 40) {
    errors.push('client_ref: must be at most 40 characters (spec: baseMessageType, error 1450)');
  }
  return errors;
}

/** Validate a send-message body (SMS text) against the spec. Empty array = valid. */
export function validateSendRequest(body: unknown): string[] {
  // `channel: mms` is the spec's MMS variant (an image with an optional caption); everything else the SMS text one.
  const validate = isObject(body) && body.channel === 'mms' ? mmsValidator() : validator();
  const errors = validate(body) ? [] : [...new Set((validate.errors ?? []).map(describe))];
  return isObject(body) ? [...errors, ...proseChecks(body)] : errors;
}
