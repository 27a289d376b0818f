import type { MigrationInterface, QueryRunner } from 'typeorm';
import { boolCol } from './helpers';

/** Clips can be held as evidence: retention (TTL and the free-disk floor) never deletes a held clip. */
export class ClipEvidence1765100000000 implements MigrationInterface {
  name = 'ClipEvidence1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('clips', boolCol(q, 'evidence_locked', false));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('clips', 'evidence_locked');
  }
}
