import { boxHeader, children, find } from './mp4-boxes';

/** A box: 32-bit size (or `size` as given), type, payload. */
function box(type: string, payload: Buffer = Buffer.alloc(0), size = 8 + payload.length): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, payload]);
}

/** A box with a 64-bit size (size field 1). */
function largeBox(type: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(1, 0);
  head.write(type, 4, 'latin1');
  head.writeBigUInt64BE(BigInt(16 + payload.length), 8);
  return Buffer.concat([head, payload]);
}

describe('boxHeader', () => {
  it.each<[string, Buffer, number, ReturnType<typeof boxHeader>]>([
    ['32-bit size', box('moov', Buffer.alloc(4)), 99, { type: 'moov', size: 12, header: 8 }],
    ['64-bit size', largeBox('mdat', Buffer.alloc(3)), 99, { type: 'mdat', size: 19, header: 16 }],
    ['size 0: to the end', box('mdat', Buffer.alloc(4), 0), 1234, { type: 'mdat', size: 1234, header: 8 }],
    ['7 bytes: no header', box('moov').subarray(0, 7), 99, null],
    ['64-bit size cut at 12 bytes', largeBox('mdat', Buffer.alloc(3)).subarray(0, 12), 99, null],
    [
      'overrun is reported as is',
      box('moof', Buffer.alloc(0), 4096),
      99,
      { type: 'moof', size: 4096, header: 8 },
    ],
  ])('%s', (_name, buf, sizeIfZero, expected) => {
    expect(boxHeader(buf, 0, buf.length, sizeIfZero)).toEqual(expected);
  });

  it('reads at an offset and stops at `end`', () => {
    const buf = Buffer.concat([Buffer.alloc(5), box('free', Buffer.alloc(2))]);
    expect(boxHeader(buf, 5, buf.length, 0)).toEqual({ type: 'free', size: 10, header: 8 });
    expect(boxHeader(buf, 5, 12, 0)).toBeNull();
  });
});

describe('children / find', () => {
  const trak = box('trak', box('mdia', box('mdhd', Buffer.alloc(4))));
  const moov = box('moov', Buffer.concat([box('mvhd', Buffer.alloc(2)), trak]));

  it('lists the boxes inside a payload, a large one too, and drops a box that overruns', () => {
    const body = Buffer.concat([
      box('ftyp', Buffer.alloc(4)),
      largeBox('free', Buffer.alloc(1)),
      box('mdat', Buffer.alloc(2), 50),
    ]);
    expect(children(body, 0, body.length)).toEqual([
      { type: 'ftyp', start: 8, end: 12 },
      { type: 'free', start: 28, end: 29 },
    ]);
  });

  it('stops at a size smaller than its header', () => {
    const body = Buffer.concat([box('ftyp'), box('bad!', Buffer.alloc(8), 4), box('free')]);
    expect(children(body, 0, body.length).map((b) => b.type)).toEqual(['ftyp']);
  });

  it('a size-0 child runs to the end of its parent', () => {
    const body = Buffer.concat([box('ftyp'), box('mdat', Buffer.alloc(6), 0)]);
    expect(children(body, 0, body.length)).toEqual([
      { type: 'ftyp', start: 8, end: 8 },
      { type: 'mdat', start: 16, end: 22 },
    ]);
  });

  it('find follows a path of types', () => {
    const root = { type: 'moov', start: 8, end: moov.length };
    const mdhd = find(moov, root, 'trak', 'mdia', 'mdhd');
    expect(mdhd && moov.toString('latin1', mdhd.start - 4, mdhd.start)).toBe('mdhd');
    expect(find(moov, root, 'trak', 'minf')).toBeUndefined();
  });
});
