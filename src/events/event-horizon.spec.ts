import { advanceHorizon, type HorizonState } from './event-horizon';

const s = (settled: number, tickets: Array<[number, string[]]> = []): HorizonState => ({
  settled,
  tickets: tickets.map(([seq, holders]) => ({ seq, holders: new Set(holders) })),
});
const plain = (st: HorizonState) => ({
  settled: st.settled,
  tickets: st.tickets.map((t) => [t.seq, [...t.holders].sort()]),
});

describe('advanceHorizon', () => {
  it.each<[string, HorizonState, number, string[], ReturnType<typeof plain>]>([
    ['nobody holds the writer lock: every seq drawn is settled', s(0), 12, [], { settled: 12, tickets: [] }],
    [
      'writers open: nothing moves, a ticket waits for them',
      s(9),
      12,
      ['3/1'],
      { settled: 9, tickets: [[12, ['3/1']]] },
    ],
    [
      'the ticket settles once all of its holders have gone, even with new writers open',
      s(9, [[12, ['3/1', '4/7']]]),
      15,
      ['5/2'],
      { settled: 12, tickets: [[15, ['5/2']]] },
    ],
    [
      'one holder of the ticket still open: it stays pending',
      s(9, [[12, ['3/1', '4/7']]]),
      15,
      ['4/7', '5/2'],
      {
        settled: 9,
        tickets: [
          [12, ['3/1', '4/7']],
          [15, ['4/7', '5/2']],
        ],
      },
    ],
    [
      'a later ticket can settle before an older one (its writers were fewer)',
      s(9, [
        [12, ['3/1']],
        [15, ['5/2']],
      ]),
      16,
      ['3/1'],
      { settled: 15, tickets: [[16, ['3/1']]] },
    ],
    [
      'at most the oldest pending ticket and the newest are kept',
      s(9, [
        [12, ['3/1']],
        [15, ['3/1']],
      ]),
      18,
      ['3/1'],
      {
        settled: 9,
        tickets: [
          [12, ['3/1']],
          [18, ['3/1']],
        ],
      },
    ],
    ['the horizon never goes back', s(20), 12, [], { settled: 20, tickets: [] }],
    ['nothing drawn yet', s(0), 0, [], { settled: 0, tickets: [] }],
  ])('%s', (_what, state, last, holders, want) => {
    expect(plain(advanceHorizon(state, last, new Set(holders)))).toEqual(want);
  });
});
