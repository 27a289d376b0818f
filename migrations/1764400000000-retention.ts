import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col, seqCol } from './helpers';

/** Audit chain checkpoints: what retention removed from the head of the chain, and its anchor hash. */
export class Retention1764400000000 implements MigrationInterface {
  name = 'Retention1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'audit_checkpoints',
        columns: [
          seqCol('id'),
          col('upto_seq', 'integer'),
          col('anchor_hash'),
          col('pruned_before'),
          col('created_at'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_checkpoints');
  }
}
