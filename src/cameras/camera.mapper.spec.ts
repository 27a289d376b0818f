import { SecretBox } from '../common/secret-box';
import { cameraAad, cameraSecrets, maskCameraUrl, toCameraDto } from './camera.mapper';
import type { CameraEntity } from './entities/camera.entity';
import { type CameraUrlInput, recordUrl } from './vendor-templates';

const box = new SecretBox(Buffer.alloc(32, 3));
const TEMPLATE = 'rtsp://{user}:{pass}@{host}:{port}/live/{user}/{pass}?user={user}&password={pass}';

function camera(over: Partial<CameraEntity>): CameraEntity {
  return {
    id: 'cam',
    siteId: null,
    name: 'Cam',
    vendor: 'generic',
    model: null,
    address: '10.0.0.5',
    rtspPort: 554,
    channel: 1,
    username: 'admin',
    password: null,
    mainStreamUrl: null,
    subStreamUrl: null,
    urlTemplate: null,
    recordStream: 'main',
    recordEnabled: true,
    recordMode: 'continuous',
    preRollSeconds: 10,
    postRollSeconds: 30,
    segmentSeconds: 60,
    retentionHours: 24,
    storageQuotaBytes: null,
    recordAudio: false,
    enabled: true,
    priority: 100,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

describe('cameraSecrets', () => {
  it.each<[string, CameraUrlInput, string[]]>([
    [
      'a password with characters a URL encodes',
      { vendor: 'hikvision', username: 'ad min', password: 'p@ss/w!' },
      [
        'p@ss/w!',
        'p%40ss%2Fw%21',
        'p%40ss%2fw%21',
        'p%40ss%2Fw!',
        'ad min:p@ss/w!',
        'ad%20min:p%40ss%2Fw%21',
        Buffer.from('ad min:p@ss/w!').toString('base64'),
      ],
    ],
    ['a password without a user', { vendor: 'generic', password: 'pw' }, ['pw']],
    [
      'the userinfo and credential query values of explicit URLs, as typed and decoded',
      {
        vendor: 'generic',
        mainStreamUrl: 'rtsp://u:p%40ss@cam/x?channel=1&pwd=q%21',
        subStreamUrl: 'http://cam/snap?token=tok',
      },
      ['u:p%40ss', 'p@ss', 'p%40ss', 'u:p@ss', Buffer.from('u:p@ss').toString('base64'), 'q%21', 'q!', 'tok'],
    ],
    ['a template holds placeholders, not secrets', { vendor: 'generic', urlTemplate: TEMPLATE }, []],
    [
      'a literal password typed into a template',
      { vendor: 'generic', username: 'admin', urlTemplate: 'rtsp://{user}:lit@{host}/x?password=lit2' },
      ['lit', 'admin:lit', Buffer.from('admin:lit').toString('base64'), 'lit2'],
    ],
  ])('%s', (_name, input, expected) => {
    expect(new Set(cameraSecrets(input))).toEqual(new Set(expected));
  });
});

describe('maskCameraUrl and toCameraDto: no filled-in URL leaves the kernel', () => {
  const password = 'Sup3r-s3cret:@/?&#';

  it.each<[string, Partial<CameraEntity>, Partial<Record<string, string | null>>]>([
    [
      'a template with the password in the userinfo, the path and the query',
      { urlTemplate: TEMPLATE },
      {
        record_url_masked: 'rtsp://***@10.0.0.5:554/live/admin/***?user=***&password=***',
        url_template: TEMPLATE,
      },
    ],
    [
      'a vendor template keeps its own query values',
      { vendor: 'dahua' },
      { record_url_masked: 'rtsp://***@10.0.0.5:554/cam/realmonitor?channel=1&subtype=0' },
    ],
    [
      'an explicit URL with the password in the path and a query token',
      { mainStreamUrl: `rtsp://cam/live/${encodeURIComponent(password)}?token=abc&channel=2` },
      {
        main_stream_url: 'rtsp://cam/live/***?token=***&channel=***',
        record_url_masked: 'rtsp://cam/live/***?token=***&channel=***',
      },
    ],
    [
      'an explicit sub stream with an inline password the password field does not know',
      { subStreamUrl: 'rtsp://viewer:inline-pw@cam/sub/inline-pw', recordStream: 'sub' },
      { sub_stream_url: 'rtsp://***@cam/sub/***', record_url_masked: 'rtsp://***@cam/sub/***' },
    ],
  ])('%s', (_name, over, expected) => {
    const dto = toCameraDto(
      camera({ password: box.seal(password, cameraAad('cam', 'password')), ...over }),
      box,
    );
    expect(dto).toMatchObject(expected);
    const text = JSON.stringify(dto);
    for (const leak of ['Sup3r', 'inline-pw', 'abc']) expect(text).not.toContain(leak);
  });

  it('masks a URL the kernel built with the secrets of its camera', () => {
    const input = { vendor: 'generic', address: 'h', username: 'u', password: 'pw!', urlTemplate: TEMPLATE };
    const url = recordUrl({ ...input, recordStream: 'main' })!;
    expect(url).toBe('rtsp://u:pw%21@h:554/live/u/pw%21?user=u&password=pw%21');
    expect(maskCameraUrl(input, 'main', url)).toBe('rtsp://***@h:554/live/u/***?user=***&password=***');
  });
});
