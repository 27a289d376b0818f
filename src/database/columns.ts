import type { ValueTransformer } from 'typeorm';

/** PostgreSQL returns BIGINT as a string; expose numbers (byte counts stay far below 2^53). */
export const bigintNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

/** JSON stored as TEXT on both engines. */
export const jsonText: ValueTransformer = {
  to: (v: unknown) => (v === undefined ? undefined : JSON.stringify(v ?? null)),
  from: (v: string | null) => (v === null || v === undefined ? v : JSON.parse(v)),
};

/** A JSON object column's TypeScript type (TypeORM's partial-entity typing rejects `unknown` values). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonObject = Record<string, any>;
