import { Auth } from '@vonage/auth';

/** How long one application JWT is reused. The SDK's tokens live 15 min; we renew well before. */
const REUSE_MS = 60_000;

type AuthParams = ConstructorParameters<typeof Auth>[0];

/**
 * The SDK's Auth signs a fresh RS256 JWT (PEM parse + sign, synchronously, ~1–3 ms) for every
 * request, which caps one Node thread at a few hundred sends/s. This Auth reuses a token for a
 * minute — Vonage accepts an application JWT until its `exp`.
 */
export class ReusedJwtAuth extends Auth {
  constructor(params: AuthParams) {
    super(params);
    // createBearerHeader is an instance field in the SDK (not on the prototype): wrap the instance's.
    const fresh = this.createBearerHeader;
    let cached: { header: string; at: number } | null = null;
    this.createBearerHeader = async () => {
      const now = Date.now();
      if (cached && now - cached.at < REUSE_MS) return cached.header;
      const header = await fresh();
      cached = { header, at: now };
      return header;
    };
  }
}
