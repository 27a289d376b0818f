import { blockedAddress, hostRefusal, isIpLiteral, normalizeIp, parseIpv4, parseIpv6 } from './ip-address';

describe('normalizeIp', () => {
  it.each([
    // IPv4 in every inet_aton spelling
    ['169.254.169.254', '169.254.169.254'],
    ['2852039166', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['0xA9FEA9FE', '169.254.169.254'],
    ['169.254.43518', '169.254.169.254'],
    ['169.16689662', '169.254.169.254'],
    ['0xa9.0376.43518', '169.254.169.254'],
    ['169.254.169.254.', '169.254.169.254'],
    ['127.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'],
    // IPv6 carrying an IPv4
    ['::ffff:169.254.169.254', '169.254.169.254'],
    ['::ffff:a9fe:a9fe', '169.254.169.254'],
    ['[::ffff:a9fe:a9fe]', '169.254.169.254'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', '169.254.169.254'],
    ['0000:0000:0000:0000:0000:FFFF:A9FE:A9FE', '169.254.169.254'],
    ['::ffff:0:a9fe:a9fe', '169.254.169.254'],
    ['::a9fe:a9fe', '169.254.169.254'],
    ['::169.254.169.254', '169.254.169.254'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254'],
    ['64:ff9b::169.254.169.254', '169.254.169.254'],
    ['64:ff9b:1::a9fe:a9fe', '169.254.169.254'],
    ['2002:a9fe:a9fe::', '169.254.169.254'],
    ['2002:a9fe:a9fe:1::1', '169.254.169.254'],
    ['2001:0:4136:e378:8000:63bf:5601:5601', '169.254.169.254'], // Teredo client, obfuscated
    ['::ffff:127.0.0.1', '127.0.0.1'],
    // Plain IPv6, canonical
    ['::1', '::1'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['FE80:0:0:0:0:0:0:1%eth0', 'fe80::1'],
    ['fd00:ec2:0::254', 'fd00:ec2::254'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    // Not IP addresses
    ['example.com', null],
    ['metadata.google.internal', null],
    ['', null],
    ['1.2.3.4.5', null],
    ['256.1.1.1', null],
    ['1.2.3.256', null],
    ['4294967296', null],
    ['08.1.1.1', null],
    ['0x1g', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1::2::3', null],
    ['::ffff:1.2.3', null],
    ['1.2.3.4::', null],
    ['12345::', null],
  ])('%s → %s', (ip, want) => {
    expect(normalizeIp(ip)).toBe(want);
  });
});

describe('blockedAddress', () => {
  const metadataSpellings = [
    '169.254.169.254',
    '2852039166',
    '0251.0376.0251.0376',
    '0xa9.0xfe.0xa9.0xfe',
    '0xa9fea9fe',
    '169.254.43518',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '[::ffff:a9fe:a9fe]',
    '0:0:0:0:0:ffff:a9fe:a9fe',
    '::ffff:0:a9fe:a9fe',
    '::a9fe:a9fe',
    '::169.254.169.254',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b:1::a9fe:a9fe', // local-use NAT64 at /96
    '64:ff9b:1:a9fe:00a9:fe00::', // local-use NAT64 at /48 (u octet skipped)
    '64:ff9b:1:00a9:00fe:a9fe::', // /56
    '64:ff9b:1:0:00a9:fea9:fe00:0', // /64
    '2002:a9fe:a9fe::',
    '2001:0:4136:e378:8000:63bf:5601:5601',
    '2001:0:a9fe:a9fe::f5ff:fffe', // Teredo server (client 10.0.0.1)
  ];
  it.each(metadataSpellings)('%s is link-local', (ip) => {
    expect(blockedAddress(ip)).toMatch(/link-local/);
  });

  it.each([
    ['fe80::1', /link-local/],
    ['FE80::1%eth0', /link-local/],
    ['febf::1', /link-local/],
    ['fd00:ec2::254', /metadata/],
    ['fd00:ec2:0:0:0:0:0:254', /metadata/],
    ['100.100.100.200', /metadata/],
    ['::ffff:100.100.100.200', /metadata/],
    ['168.63.129.16', /metadata/],
    ['192.0.0.192', /metadata/],
    ['0.0.0.0', /unspecified/],
    ['0', /unspecified/],
    ['::', /unspecified/],
    ['::ffff:0.0.0.0', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved/],
    ['ff02::1', /multicast/],
  ])('%s is refused (%s)', (ip, why) => {
    expect(blockedAddress(ip)).toMatch(why);
  });

  it.each([
    '127.0.0.1',
    '127.1',
    '::1',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    '192.168.1.20',
    '10.0.0.5',
    '100.64.0.1',
    '172.16.0.1',
    'fd12:3456::1',
    '2001:db8::1',
    '64:ff9b::a00:5', // NAT64 of 10.0.0.5
    '2002:c0a8:114::', // 6to4 of 192.168.1.20
    '64:ff9b:1:a00:0:500::', // local-use NAT64 /48 of 10.0.0.5 (its /96 reading, 0.0.0.0, is only a guess)
    '64:ff9b:1::a00:5',
    'example.com',
    'not an address',
  ])('%s is allowed', (ip) => {
    expect(blockedAddress(ip)).toBeNull();
  });
});

describe('hostRefusal', () => {
  it.each([
    ['metadata.google.internal', /metadata name/],
    ['METADATA.google.internal.', /metadata name/],
    ['metadata', /metadata name/],
    ['instance-data', /metadata name/],
    ['instance-data.ec2.internal', /metadata name/],
    ['[::ffff:a9fe:a9fe]', /link-local/],
    ['0251.0376.0251.0376', /link-local/],
    ['camera.lan', null],
    ['[::1]', null],
    ['127.0.0.1', null],
  ])('%s → %s', (host, want) => {
    const got = hostRefusal(host);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});

describe('parsers', () => {
  it('reads IPv4 parts with inet_aton rules', () => {
    expect(parseIpv4('1.2.3.4')).toBe(0x01020304);
    expect(parseIpv4('1.2.65535')).toBe(0x0102ffff);
    expect(parseIpv4('1.2.65536')).toBeNull();
    expect(parseIpv4('1.16777215')).toBe(0x01ffffff);
    expect(parseIpv4('4294967295')).toBe(0xffffffff);
  });

  it('expands IPv6 into eight groups', () => {
    expect(parseIpv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1:2:3:4:5:6:7::')).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(parseIpv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIpv6('1:2:3:4:5:6:7:8::')).toBeNull();
    expect(parseIpv6('1.2.3.4')).toBeNull();
  });

  it('tells IP literals from names', () => {
    expect(isIpLiteral('[::1]')).toBe(true);
    expect(isIpLiteral('2852039166')).toBe(true);
    expect(isIpLiteral('camera.lan')).toBe(false);
  });
});
