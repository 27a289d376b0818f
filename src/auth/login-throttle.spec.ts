import { AttemptWindows, loginThrottleKey } from './login-throttle';

describe('loginThrottleKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:192.0.2.7', '192.0.2.7'],
    ['::ffff:c000:207', '192.0.2.7'],
    ['0:0:0:0:0:ffff:c000:0207', '192.0.2.7'],
    ['::1', '0:0:0:0::/64'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:1:2::192.0.2.1', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::c000:207', '64:ff9b:0:0::/64'],
    ['not-an-ip', 'not-an-ip'],
    ['', ''],
  ])('%s → %s', (ip, key) => {
    expect(loginThrottleKey(ip)).toBe(key);
  });

  it('every address of one /64 shares one key; neighbouring /64s do not', () => {
    const keys = new Set(
      ['2001:db8:a:b::1', '2001:db8:a:b:dead:beef:0:1', '2001:db8:a:b:ffff::'].map(loginThrottleKey),
    );
    expect(keys.size).toBe(1);
    expect(loginThrottleKey('2001:db8:a:c::1')).not.toBe(loginThrottleKey('2001:db8:a:b::1'));
  });
});

describe('AttemptWindows', () => {
  it('allows `limit` attempts per window, then says how long to wait; a new window starts over', () => {
    const w = new AttemptWindows(3, 60_000);
    expect([w.hit('a', 0), w.hit('a', 1000), w.hit('a', 2000)]).toEqual([null, null, null]);
    expect(w.hit('a', 30_000)).toBe(30);
    expect(w.hit('b', 30_000)).toBeNull();
    expect(w.hit('a', 60_000)).toBeNull();
  });

  it('over the key cap, evicts expired windows and then the oldest one by one (never all at once)', () => {
    const w = new AttemptWindows(1, 60_000, 3);
    w.hit('victim', 0);
    expect(w.hit('victim', 1)).not.toBeNull(); // limited
    w.hit('x1', 10);
    w.hit('x2', 20);
    w.hit('x3', 30); // 4 keys > 3: the oldest window (victim's) goes, nobody else's
    expect(w.size).toBe(3);
    expect(w.hit('x3', 31)).not.toBeNull(); // x3 is still limited
    expect(w.hit('x2', 32)).not.toBeNull();
    // Flooding with fresh keys never empties the map: the newest windows stay.
    for (let i = 0; i < 100; i++) w.hit(`flood${i}`, 40 + i);
    expect(w.size).toBe(3);
    expect(w.hit('flood99', 200)).not.toBeNull();
  });

  it('drops expired windows first, even under the cap', () => {
    const w = new AttemptWindows(1, 60_000, 10);
    w.hit('old1', 0);
    w.hit('old2', 1);
    w.hit('live', 30_000);
    w.hit('new', 61_000); // old1 and old2 expired
    expect(w.size).toBe(2);
    expect(w.hit('live', 61_001)).not.toBeNull();
  });

  it('a key opening a new window moves behind the others (eviction stays oldest-first)', () => {
    const w = new AttemptWindows(1, 60_000, 2);
    w.hit('a', 0);
    w.hit('b', 30_000);
    w.hit('a', 60_000); // a's new window is newer than b's
    w.hit('c', 60_001); // 3 keys > 2: b goes (oldest window), a stays limited
    expect(w.hit('a', 60_002)).not.toBeNull();
    expect(w.hit('b', 60_003)).toBeNull(); // b had been evicted: a fresh window
  });
});
