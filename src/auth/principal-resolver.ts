import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal } from './principal';

/**
 * Turns a request's credential (bearer token, X-API-Key, session cookie) into a Principal.
 * The foundation knows no credentials yet: users, sessions and API keys replace this provider.
 */
@Injectable()
export class PrincipalResolver {
  async resolve(_req: Request): Promise<Principal | null> {
    return null;
  }
}
