import { consoleTarget, contentTypeOf, defaultWebDir } from './console-static';

describe('consoleTarget', () => {
  it.each([
    ['GET', '/', { kind: 'index' }],
    ['HEAD', '/', { kind: 'index' }],
    ['GET', '/app', { kind: 'index' }],
    ['GET', '/app/timeline/cam1', { kind: 'index' }],
    ['GET', '/assets/app-ABCD1234.js', { kind: 'asset', file: 'app-ABCD1234.js' }],
    ['GET', '/assets/app-ABCD1234.css', { kind: 'asset', file: 'app-ABCD1234.css' }],
    ['GET', '/assets/app-ABCD1234.js.map', { kind: 'asset', file: 'app-ABCD1234.js.map' }],
    ['POST', '/', { kind: 'none' }],
    ['GET', '/api/v1/cameras', { kind: 'none' }],
    ['GET', '/docs', { kind: 'none' }],
    ['GET', '/media/x.mp4', { kind: 'none' }],
    ['GET', '/live/cam_a/index.m3u8', { kind: 'none' }],
    ['GET', '/application', { kind: 'none' }],
    ['GET', '/assets/../../etc/passwd', { kind: 'none' }],
    ['GET', '/assets/app-ABCD1234.html', { kind: 'none' }],
    ['GET', '/assets/other.js', { kind: 'none' }],
  ])('%s %s', (method, path, want) => {
    expect(consoleTarget(method, path)).toEqual(want);
  });
});

describe('contentTypeOf', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['app-X.js', 'text/javascript; charset=utf-8'],
    ['app-X.css', 'text/css; charset=utf-8'],
    ['app-X.js.map', 'application/json; charset=utf-8'],
  ])('%s', (file, want) => expect(contentTypeOf(file)).toBe(want));
});

describe('defaultWebDir', () => {
  it.each([
    ['/app/dist', '/app/dist/web'], // the bundle
    ['/app/dist/src', '/app/dist/web'], // tsc's output
    ['/repo/src', '/repo/dist/web'], // the TypeScript sources (tests)
  ])('%s → %s', (dir, want) => expect(defaultWebDir(dir)).toBe(want));
});
