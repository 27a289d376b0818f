import { attemptsInsertSql, chunkSize, outcomesUpdateSql } from './webhooks.repository';

describe('ledger statements', () => {
  it.each([
    [1, 1],
    [3, 1],
    [4, 4],
    [15, 4],
    [16, 16],
    [63, 16],
    [64, 64],
    [255, 64],
    [256, 256],
    [5000, 256],
  ])('%i outcomes left: a chunk of %i', (left, n) => {
    expect(chunkSize(left)).toBe(n);
  });

  it.each([1, 4, 16])('%i rows: 8 placeholders a row, numbered in order on PostgreSQL', (n) => {
    for (const sql of [attemptsInsertSql(n, '?'), outcomesUpdateSql(n, '?')])
      expect(sql.match(/\?/g)).toHaveLength(8 * n);
    for (const sql of [attemptsInsertSql(n, '$'), outcomesUpdateSql(n, '$')]) {
      const nums = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
      expect(nums).toEqual(Array.from({ length: 8 * n }, (_, i) => i + 1));
      expect(sql).not.toContain('?');
    }
  });
});
