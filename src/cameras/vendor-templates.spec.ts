import {
  CAMERA_VENDORS,
  CameraUrlInput,
  StreamKind,
  URL_TEMPLATE_PLACEHOLDERS,
  VENDOR_IDS,
  VendorId,
  buildStreamUrl,
  describeVendors,
  isVendorId,
  liveUrl,
  percentEncodeUserinfo,
  recordUrl,
  validateUrlTemplate,
} from './vendor-templates';

const cam = (over: Partial<CameraUrlInput> = {}): CameraUrlInput => ({
  vendor: 'hikvision',
  address: '10.0.0.5',
  username: 'admin',
  password: 'secret',
  ...over,
});

const BASE = 'rtsp://admin:secret@10.0.0.5';

/** [vendor, stream, channel (null = default), expected URL]: every vendor template appears here. */
const VENDOR_CASES: [VendorId, StreamKind, number | null, string][] = [
  ['hikvision', 'main', null, `${BASE}:554/Streaming/Channels/101`],
  ['hikvision', 'sub', null, `${BASE}:554/Streaming/Channels/102`],
  ['hikvision', 'main', 2, `${BASE}:554/Streaming/Channels/201`],
  ['hikvision', 'sub', 2, `${BASE}:554/Streaming/Channels/202`],
  ['hikvision', 'main', 12, `${BASE}:554/Streaming/Channels/1201`],
  ['hikvision', 'sub', 12, `${BASE}:554/Streaming/Channels/1202`],
  ['dahua', 'main', null, `${BASE}:554/cam/realmonitor?channel=1&subtype=0`],
  ['dahua', 'sub', null, `${BASE}:554/cam/realmonitor?channel=1&subtype=1`],
  ['dahua', 'main', 2, `${BASE}:554/cam/realmonitor?channel=2&subtype=0`],
  ['dahua', 'sub', 2, `${BASE}:554/cam/realmonitor?channel=2&subtype=1`],
  ['amcrest', 'main', null, `${BASE}:554/cam/realmonitor?channel=1&subtype=0`],
  ['amcrest', 'sub', null, `${BASE}:554/cam/realmonitor?channel=1&subtype=1`],
  ['amcrest', 'main', 2, `${BASE}:554/cam/realmonitor?channel=2&subtype=0`],
  ['amcrest', 'sub', 2, `${BASE}:554/cam/realmonitor?channel=2&subtype=1`],
  ['axis', 'main', null, `${BASE}:554/axis-media/media.amp?camera=1`],
  ['axis', 'sub', null, `${BASE}:554/axis-media/media.amp?camera=1&resolution=640x360`],
  ['axis', 'main', 2, `${BASE}:554/axis-media/media.amp?camera=2`],
  ['axis', 'sub', 2, `${BASE}:554/axis-media/media.amp?camera=2&resolution=640x360`],
  ['reolink', 'main', null, `${BASE}:554/h264Preview_01_main`],
  ['reolink', 'sub', null, `${BASE}:554/h264Preview_01_sub`],
  ['reolink', 'main', 2, `${BASE}:554/h264Preview_02_main`],
  ['reolink', 'sub', 2, `${BASE}:554/h264Preview_02_sub`],
  ['reolink', 'main', 12, `${BASE}:554/h264Preview_12_main`],
  ['uniview', 'main', null, `${BASE}:554/unicast/c1/s0/live`],
  ['uniview', 'sub', null, `${BASE}:554/unicast/c1/s1/live`],
  ['uniview', 'main', 2, `${BASE}:554/unicast/c2/s0/live`],
  ['uniview', 'sub', 2, `${BASE}:554/unicast/c2/s1/live`],
  ['hanwha', 'main', null, `${BASE}:554/profile2/media.smp`],
  ['hanwha', 'sub', null, `${BASE}:554/profile3/media.smp`],
  ['hanwha', 'main', 1, `${BASE}:554/profile2/media.smp`],
  ['hanwha', 'main', 2, `${BASE}:554/1/profile2/media.smp`],
  ['hanwha', 'sub', 2, `${BASE}:554/1/profile3/media.smp`],
  ['hanwha', 'main', 16, `${BASE}:554/15/profile2/media.smp`],
  ['tapo', 'main', null, `${BASE}:554/stream1`],
  ['tapo', 'sub', null, `${BASE}:554/stream2`],
  ['tapo', 'main', 2, `${BASE}:554/stream1`],
  ['foscam', 'main', null, `${BASE}:88/videoMain`],
  ['foscam', 'sub', null, `${BASE}:88/videoSub`],
];

describe('vendor list', () => {
  it('lists the ten vendors in order, one template each', () => {
    expect(VENDOR_IDS).toEqual([
      'hikvision',
      'dahua',
      'amcrest',
      'axis',
      'reolink',
      'uniview',
      'hanwha',
      'tapo',
      'foscam',
      'generic',
    ]);
    expect(CAMERA_VENDORS.map((v) => v.id)).toEqual(VENDOR_IDS);
  });

  it('uses port 88 for foscam and 554 for the others', () => {
    const ports = CAMERA_VENDORS.map((v) => [v.id, v.defaultPort]);
    expect(ports).toEqual(VENDOR_IDS.map((id) => [id, id === 'foscam' ? 88 : 554]));
  });

  it('has no template only for generic', () => {
    const without = CAMERA_VENDORS.filter((v) => v.main === null || v.sub === null).map((v) => v.id);
    expect(without).toEqual(['generic']);
  });

  it('covers every vendor template, and channel 2 where the vendor uses channels, in VENDOR_CASES', () => {
    for (const v of CAMERA_VENDORS) {
      for (const stream of ['main', 'sub'] as const) {
        const tpl = v[stream];
        if (tpl === null) continue;
        const cases = VENDOR_CASES.filter(([id, s]) => id === v.id && s === stream);
        expect([v.id, stream, cases.length > 0]).toEqual([v.id, stream, true]);
        if (tpl.includes('{channel')) {
          expect([v.id, stream, cases.some(([, , ch]) => ch === 2)]).toEqual([v.id, stream, true]);
        }
      }
    }
  });
});

describe('isVendorId', () => {
  it.each(VENDOR_IDS.map((id) => [id]))('accepts %s', (id) => {
    expect(isVendorId(id)).toBe(true);
  });

  it.each([['Hikvision'], [''], ['unknown'], ['__proto__'], ['toString'], [1], [null], [undefined], [{}]])(
    'rejects %p',
    (v) => {
      expect(isVendorId(v)).toBe(false);
    },
  );
});

describe('buildStreamUrl: vendor templates', () => {
  it.each(VENDOR_CASES)('%s %s channel %p', (vendor, stream, channel, expected) => {
    expect(buildStreamUrl(cam({ vendor, channel }), stream)).toBe(expected);
  });

  it('returns null for generic without an explicit URL', () => {
    expect(buildStreamUrl(cam({ vendor: 'generic' }), 'main')).toBeNull();
    expect(buildStreamUrl(cam({ vendor: 'generic' }), 'sub')).toBeNull();
  });

  it('returns null for an unknown vendor without an explicit URL', () => {
    expect(buildStreamUrl(cam({ vendor: 'acme' }), 'main')).toBeNull();
  });

  it.each([[null], [undefined], [''], ['   ']])('returns null with address %p', (address) => {
    expect(buildStreamUrl(cam({ address }), 'main')).toBeNull();
    expect(buildStreamUrl(cam({ address }), 'sub')).toBeNull();
  });

  it('trims the address', () => {
    expect(buildStreamUrl(cam({ address: ' cam.local ' }), 'main')).toBe(
      'rtsp://admin:secret@cam.local:554/Streaming/Channels/101',
    );
  });

  it.each([
    ['channel 0', { channel: 0 }],
    ['channel -1', { channel: -1 }],
    ['channel 1.5', { channel: 1.5 }],
    ['port 0', { rtspPort: 0 }],
    ['port 65536', { rtspPort: 65536 }],
    ['port NaN', { rtspPort: NaN }],
  ])('returns null with %s', (_label, over) => {
    expect(buildStreamUrl(cam(over), 'main')).toBeNull();
  });

  it('uses a custom port', () => {
    expect(buildStreamUrl(cam({ rtspPort: 8554 }), 'main')).toBe(`${BASE}:8554/Streaming/Channels/101`);
    expect(buildStreamUrl(cam({ vendor: 'foscam', rtspPort: 554 }), 'sub')).toBe(`${BASE}:554/videoSub`);
  });

  it.each([
    ['fe80::1', '[fe80::1]'],
    ['2001:db8::5', '[2001:db8::5]'],
    ['[2001:db8::5]', '[2001:db8::5]'],
    ['fe80::1%eth0', '[fe80::1%25eth0]'],
    ['192.168.1.20', '192.168.1.20'],
    ['cam-3.lan', 'cam-3.lan'],
  ])('writes host %s as %s', (address, host) => {
    expect(buildStreamUrl(cam({ address }), 'main')).toBe(
      `rtsp://admin:secret@${host}:554/Streaming/Channels/101`,
    );
  });
});

describe('credentials', () => {
  it.each([
    ['admin', 'admin'],
    ['A-Za-z0-9-._~', 'A-Za-z0-9-._~'],
    ['p@ss:w/rd', 'p%40ss%3Aw%2Frd'],
    ["!*'()", '%21%2A%27%28%29'],
    ['a b%c+d#e?f[g]h', 'a%20b%25c%2Bd%23e%3Ff%5Bg%5Dh'],
    ['{host}', '%7Bhost%7D'],
    ['pässwörd', 'p%C3%A4ssw%C3%B6rd'],
    ['密码', '%E5%AF%86%E7%A0%81'],
    ['🔑', '%F0%9F%94%91'],
    ['', ''],
  ])('percentEncodeUserinfo(%p) = %p', (input, expected) => {
    expect(percentEncodeUserinfo(input)).toBe(expected);
  });

  it('percent-encodes user and password in the URL', () => {
    expect(buildStreamUrl(cam({ username: 'ad min', password: 'p@ss:w/rd' }), 'main')).toBe(
      'rtsp://ad%20min:p%40ss%3Aw%2Frd@10.0.0.5:554/Streaming/Channels/101',
    );
    expect(buildStreamUrl(cam({ username: 'jürgen', password: 'пароль' }), 'main')).toBe(
      'rtsp://j%C3%BCrgen:%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C@10.0.0.5:554/Streaming/Channels/101',
    );
  });

  it.each([[null], [undefined], ['']])('writes user@ for a user with password %p', (password) => {
    expect(buildStreamUrl(cam({ password }), 'main')).toBe(
      'rtsp://admin@10.0.0.5:554/Streaming/Channels/101',
    );
  });

  it.each([
    [null, null],
    [undefined, undefined],
    ['', 'secret'],
    [null, 'secret'],
  ])('writes no credentials for user %p, password %p', (username, password) => {
    expect(buildStreamUrl(cam({ username, password }), 'main')).toBe(
      'rtsp://10.0.0.5:554/Streaming/Channels/101',
    );
  });
});

describe('buildStreamUrl: precedence', () => {
  const full = cam({
    urlTemplate: 'rtsp://{host}:{port}/tpl/{stream}',
    mainStreamUrl: 'rtsp://u:p@ss@other:1/explicit-main',
    subStreamUrl: 'rtsp://other/explicit-sub',
  });

  it('returns an explicit URL as is, over the template and the vendor', () => {
    expect(buildStreamUrl(full, 'main')).toBe('rtsp://u:p@ss@other:1/explicit-main');
    expect(buildStreamUrl(full, 'sub')).toBe('rtsp://other/explicit-sub');
  });

  it('returns an explicit URL without an address, and for generic', () => {
    const generic = { vendor: 'generic', mainStreamUrl: 'rtsp://x/m', subStreamUrl: 'rtsp://x/s' };
    expect(buildStreamUrl(generic, 'main')).toBe('rtsp://x/m');
    expect(buildStreamUrl(generic, 'sub')).toBe('rtsp://x/s');
  });

  it('resolves each stream on its own: explicit main, template sub', () => {
    const c = { ...full, subStreamUrl: null };
    expect(buildStreamUrl(c, 'main')).toBe('rtsp://u:p@ss@other:1/explicit-main');
    expect(buildStreamUrl(c, 'sub')).toBe('rtsp://10.0.0.5:554/tpl/sub');
  });

  it('resolves each stream on its own: explicit main, vendor sub', () => {
    const c = cam({ mainStreamUrl: 'rtsp://x/m' });
    expect(buildStreamUrl(c, 'main')).toBe('rtsp://x/m');
    expect(buildStreamUrl(c, 'sub')).toBe(`${BASE}:554/Streaming/Channels/102`);
  });

  it('ignores blank explicit URLs and templates', () => {
    const c = cam({ mainStreamUrl: '', subStreamUrl: '  ', urlTemplate: ' ' });
    expect(buildStreamUrl(c, 'main')).toBe(`${BASE}:554/Streaming/Channels/101`);
    expect(buildStreamUrl(c, 'sub')).toBe(`${BASE}:554/Streaming/Channels/102`);
  });

  it('uses the template over the vendor', () => {
    expect(buildStreamUrl({ ...full, mainStreamUrl: null }, 'main')).toBe('rtsp://10.0.0.5:554/tpl/main');
  });
});

describe('buildStreamUrl: per-camera template', () => {
  const tpl = 'rtsp://{user}:{pass}@{host}:{port}/live/ch{channel}/{stream}?again={channel}';

  it('expands every placeholder', () => {
    const c = cam({
      vendor: 'generic',
      urlTemplate: tpl,
      password: 'p@ss:w/rd',
      rtspPort: 10554,
      channel: 3,
    });
    expect(buildStreamUrl(c, 'main')).toBe(
      'rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.5:10554/live/ch3/main?again=3',
    );
    expect(buildStreamUrl(c, 'sub')).toBe('rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.5:10554/live/ch3/sub?again=3');
  });

  it('defaults port to the vendor default and channel to 1', () => {
    expect(buildStreamUrl(cam({ vendor: 'foscam', urlTemplate: tpl }), 'main')).toBe(
      `${BASE}:88/live/ch1/main?again=1`,
    );
    expect(buildStreamUrl(cam({ vendor: 'generic', urlTemplate: tpl }), 'main')).toBe(
      `${BASE}:554/live/ch1/main?again=1`,
    );
  });

  it('brackets an IPv6 host', () => {
    expect(buildStreamUrl(cam({ urlTemplate: tpl, address: 'fe80::1' }), 'sub')).toBe(
      'rtsp://admin:secret@[fe80::1]:554/live/ch1/sub?again=1',
    );
  });

  it('expands missing credentials to empty strings', () => {
    const c = cam({ urlTemplate: tpl, username: null, password: null });
    expect(buildStreamUrl(c, 'main')).toBe('rtsp://:@10.0.0.5:554/live/ch1/main?again=1');
  });

  it('does not expand placeholders inside substituted values', () => {
    const c = cam({
      urlTemplate: 'rtsp://{user}:{pass}@{host}/{stream}',
      username: '{host}',
      password: '{pass}',
    });
    expect(buildStreamUrl(c, 'main')).toBe('rtsp://%7Bhost%7D:%7Bpass%7D@10.0.0.5/main');
  });

  it('serves only main when the template has no {stream}', () => {
    const c = cam({ urlTemplate: 'http://{host}:{port}/video.mjpg' });
    expect(buildStreamUrl(c, 'main')).toBe('http://10.0.0.5:554/video.mjpg');
    expect(buildStreamUrl(c, 'sub')).toBeNull();
  });

  it('returns null without an address', () => {
    expect(buildStreamUrl(cam({ urlTemplate: tpl, address: null }), 'main')).toBeNull();
  });

  it('returns null for an invalid template (unknown placeholder)', () => {
    expect(buildStreamUrl(cam({ urlTemplate: 'rtsp://{host}/{foo}/{stream}' }), 'main')).toBeNull();
    expect(buildStreamUrl(cam({ urlTemplate: 'rtsp://{host}/{foo}/{stream}' }), 'sub')).toBeNull();
  });
});

describe('validateUrlTemplate', () => {
  it.each([
    ['rtsp://{user}:{pass}@{host}:{port}/ch{channel}/{stream}'],
    ['rtsps://{host}/live'],
    ['http://{host}:{port}/video.cgi?channel={channel}&stream={stream}'],
    ['https://cam.example/fixed'],
    ['rtsp://10.0.0.5/no-placeholders'],
  ])('accepts %s', (tpl) => {
    expect(validateUrlTemplate(tpl)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['ftp://{host}/x', /must start with/],
    ['{host}/x', /must start with/],
    ['rtsp:/{host}', /must start with/],
    ['RTSP://{host}', /must start with/],
    ['rtsp://', /must start with/],
    [' rtsp://{host}', /whitespace/],
    ['rtsp://{host}/a b', /whitespace/],
    ['rtsp://{host}/\t', /whitespace/],
    ['rtsp://{host}/\n', /whitespace/],
    ['rtsp://{host}/\u0000', /control/],
    ['rtsp://{host}/\u007f', /control/],
    ['rtsp://{host}/{foo}', /Unknown placeholder \{foo\}/],
    ['rtsp://{Host}/x', /Unknown placeholder \{Host\}/],
    ['rtsp://{host}/{channel:02}', /Unknown placeholder \{channel:02\}/],
    ['rtsp://{host}/{}', /Unknown placeholder \{\}/],
    ['rtsp://{host', /Unbalanced brace/],
    ['rtsp://host}/x', /Unbalanced brace/],
    ['rtsp://{{host}}/x', /Unbalanced brace/],
    [`rtsp://{host}/${'a'.repeat(2048)}`, /over 2048 characters/],
  ])('rejects %p', (tpl, message) => {
    expect(validateUrlTemplate(tpl)).toMatch(message);
  });

  it('names the allowed placeholders', () => {
    const err = validateUrlTemplate('rtsp://{foo}');
    for (const p of URL_TEMPLATE_PLACEHOLDERS) expect(err).toContain(`{${p}}`);
  });

  it.each([[null], [42], [undefined]])('rejects non-string %p', (tpl) => {
    expect(validateUrlTemplate(tpl)).toBe('URL template must be a string');
  });
});

describe('recordUrl and liveUrl', () => {
  it('records the chosen stream', () => {
    expect(recordUrl({ ...cam(), recordStream: 'sub' })).toBe(`${BASE}:554/Streaming/Channels/102`);
    expect(recordUrl({ ...cam(), recordStream: 'main' })).toBe(`${BASE}:554/Streaming/Channels/101`);
  });

  it('does not fall back to main when the record stream is sub and there is none', () => {
    expect(recordUrl({ vendor: 'generic', mainStreamUrl: 'rtsp://x/m', recordStream: 'sub' })).toBeNull();
    expect(recordUrl({ vendor: 'generic', mainStreamUrl: 'rtsp://x/m', recordStream: 'main' })).toBe(
      'rtsp://x/m',
    );
  });

  it('shows the sub stream live when there is one', () => {
    expect(liveUrl(cam())).toBe(`${BASE}:554/Streaming/Channels/102`);
    expect(liveUrl({ vendor: 'generic', mainStreamUrl: 'rtsp://x/m', subStreamUrl: 'rtsp://x/s' })).toBe(
      'rtsp://x/s',
    );
  });

  it('falls back to main live when there is no sub stream', () => {
    expect(liveUrl({ vendor: 'generic', mainStreamUrl: 'rtsp://x/m' })).toBe('rtsp://x/m');
    expect(liveUrl(cam({ urlTemplate: 'rtsp://{host}/only' }))).toBe('rtsp://10.0.0.5/only');
  });

  it('returns null when no stream is available', () => {
    expect(liveUrl({ vendor: 'generic' })).toBeNull();
    expect(liveUrl(cam({ address: null }))).toBeNull();
  });
});

describe('describeVendors', () => {
  const described = describeVendors();

  it('describes every vendor in order with its template', () => {
    expect(described.map((d) => d.id)).toEqual(VENDOR_IDS);
    for (const [i, d] of described.entries()) expect(d).toMatchObject(CAMERA_VENDORS[i]);
  });

  it('gives the full URL shapes', () => {
    const byId = new Map(described.map((d) => [d.id, d]));
    expect(byId.get('hikvision')).toMatchObject({
      name: 'Hikvision',
      defaultPort: 554,
      mainUrl: 'rtsp://{user}:{pass}@{host}:{port}/Streaming/Channels/{channel}01',
      subUrl: 'rtsp://{user}:{pass}@{host}:{port}/Streaming/Channels/{channel}02',
      usesChannel: true,
    });
    expect(byId.get('reolink')?.mainUrl).toBe(
      'rtsp://{user}:{pass}@{host}:{port}/h264Preview_{channel:02}_main',
    );
    expect(byId.get('foscam')).toMatchObject({
      defaultPort: 88,
      subUrl: 'rtsp://{user}:{pass}@{host}:{port}/videoSub',
    });
    expect(byId.get('tapo')?.usesChannel).toBe(false);
    expect(byId.get('generic')).toMatchObject({ mainUrl: null, subUrl: null, usesChannel: false });
  });

  it('does not let callers change the vendor table', () => {
    expect(Object.isFrozen(CAMERA_VENDORS)).toBe(true);
    expect(Object.isFrozen(CAMERA_VENDORS[0])).toBe(true);
  });
});
