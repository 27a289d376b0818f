import { httpSourceRefusal, streamUrlsRefusal } from './stream-url-guard';

describe('httpSourceRefusal', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data',
    'https://169.254.169.254/',
    'HTTP://169.254.169.254/',
    'http://[::ffff:169.254.169.254]/snap.jpg',
    'http://[::ffff:a9fe:a9fe]:80/',
    'http://[::a9fe:a9fe]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:a9fe:a9fe::]/',
    'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
    'http://2852039166/',
    'http://0251.0376.0251.0376/',
    'http://0xa9.0xfe.0xa9.0xfe/',
    'http://user:pass@169.254.169.254/',
    'http://127.0.0.1@169.254.169.254/',
    'http://169.254.169.254#@example.com/',
    'http://example.com\\@169.254.169.254/', // ffmpeg reads the host after the @
    'http://169.254.169.254\\@example.com/', // WHATWG reads the host before the backslash
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://metadata/',
    'http://[fe80::1]/',
    'http://[fd00:ec2::254]/',
  ])('refuses %s', (url) => {
    expect(httpSourceRefusal(url)).toMatch(/^camera https? URL host .* is (a link-local|a cloud metadata)/);
  });

  it.each([
    'http://127.0.0.1:8080/video.mjpg',
    'http://192.168.1.64/ISAPI/Streaming/channels/101/picture',
    'https://camera.lan/snap.jpg',
    'http://[::1]:8080/',
    'rtsp://169.254.169.254:554/stream1', // RTSP to a link-local camera is fine
    'rtsp://127.0.0.1:8554/test',
    'rtsps://[::ffff:a9fe:a9fe]/live',
  ])('accepts %s', (url) => {
    expect(httpSourceRefusal(url)).toBeNull();
  });
});

describe('streamUrlsRefusal', () => {
  const base = { vendor: 'generic' };
  it.each([
    [{ ...base, mainStreamUrl: 'http://[::ffff:169.254.169.254]/' }],
    [{ ...base, mainStreamUrl: 'rtsp://127.0.0.1/a', subStreamUrl: 'http://2852039166/' }],
    [{ ...base, urlTemplate: 'http://{host}/snap?user={user}', address: '169.254.169.254' }],
    [{ ...base, urlTemplate: 'http://{host}:{port}/', address: '::ffff:a9fe:a9fe', rtspPort: 80 }],
    [{ ...base, urlTemplate: 'http://{host}/', address: '127.0.0.1@169.254.169.254' }],
    [{ ...base, urlTemplate: 'http://{host}/', address: 'metadata.google.internal' }],
    [{ ...base, urlTemplate: 'http://169.254.169.254/{stream}' }], // no address yet
    // An explicit main URL hides the template, which is still judged (clearing the URL would use it).
    [{ ...base, mainStreamUrl: 'rtsp://127.0.0.1/a', urlTemplate: 'https://[64:ff9b::a9fe:a9fe]/' }],
  ])('refuses %j', (cam) => {
    expect(streamUrlsRefusal(cam)).toMatch(/is a (link-local|cloud metadata)/);
  });

  it.each([
    [{ ...base, mainStreamUrl: 'rtsp://127.0.0.1:8554/test' }],
    [{ vendor: 'hikvision', address: '169.254.10.20', username: 'admin', password: 'x' }], // RTSP
    [{ ...base, urlTemplate: 'http://{host}/snap?user={user}&pwd={pass}', address: '192.168.1.64' }],
    [{ ...base, urlTemplate: 'http://{host}/snap', password: '@169.254.169.254/' }],
    [{ ...base }],
  ])('accepts %j', (cam) => {
    expect(streamUrlsRefusal(cam)).toBeNull();
  });
});
