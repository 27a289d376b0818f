import { ConfigError, defaultNodeId, loadConfig } from './heldar-config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.databaseUrl).toBe('sqlite://./data/heldar.db');
    expect(cfg.apiPort).toBe(8080);
    expect(cfg.authEnabled).toBe(false);
    expect(cfg.corsOriginList).toEqual([]);
    expect(cfg.defaultSegmentSeconds).toBe(60);
    expect(cfg.isSqlite).toBe(true);
  });

  it('parses numbers, booleans and lists; empty means unset', () => {
    const cfg = loadConfig({
      HELDAR_API_PORT: '9000',
      HELDAR_AUTH_ENABLED: 'yes',
      HELDAR_CORS_ORIGINS: 'http://a.example, http://b.example',
      HELDAR_DEFAULT_RECORD_AUDIO: 'off',
      HELDAR_DATA_DIR: '   ',
      HELDAR_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/heldar',
    });
    expect(cfg.apiPort).toBe(9000);
    expect(cfg.authEnabled).toBe(true);
    expect(cfg.corsOriginList).toEqual(['http://a.example', 'http://b.example']);
    expect(cfg.defaultRecordAudio).toBe(false);
    expect(cfg.dataDir).toBe('./data');
    expect(cfg.isSqlite).toBe(false);
  });

  it('fails listing every invalid variable, never printing the secret key', () => {
    let err: unknown;
    try {
      loadConfig({
        HELDAR_API_PORT: 'eighty',
        HELDAR_AUTH_ENABLED: 'maybe',
        HELDAR_DATABASE_URL: 'mysql://x',
        HELDAR_DEFAULT_SEGMENT_SECONDS: '1',
        HELDAR_SECRET_KEY: 'dG9vLXNob3J0LXNlY3JldA==',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(5);
    const text = problems.join('\n');
    for (const name of [
      'HELDAR_API_PORT="eighty"',
      'HELDAR_AUTH_ENABLED="maybe"',
      'HELDAR_DATABASE_URL',
      'HELDAR_DEFAULT_SEGMENT_SECONDS=1',
      'HELDAR_SECRET_KEY=(hidden)',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain('dG9vLXNob3J0');
  });
});

describe('loadConfig cross-checks', () => {
  it('refuses production mode with auth off', () => {
    expect(() => loadConfig({ HELDAR_DEPLOYMENT_MODE: 'production' })).toThrow(
      /requires HELDAR_AUTH_ENABLED=true/,
    );
    expect(
      loadConfig({ HELDAR_DEPLOYMENT_MODE: 'production', HELDAR_AUTH_ENABLED: 'true' }).authEnabled,
    ).toBe(true);
  });

  it('checks the bootstrap admin pair and hides its password', () => {
    expect(() => loadConfig({ HELDAR_BOOTSTRAP_ADMIN_PASSWORD: 'long-enough-1' })).toThrow(
      /HELDAR_BOOTSTRAP_ADMIN_USER is not/,
    );
    let message = '';
    try {
      loadConfig({ HELDAR_BOOTSTRAP_ADMIN_USER: 'root', HELDAR_BOOTSTRAP_ADMIN_PASSWORD: 'short' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('HELDAR_BOOTSTRAP_ADMIN_PASSWORD=(hidden): must be at least 8 characters');
    expect(message).not.toContain('short');
  });
});

describe('node identity (cluster)', () => {
  it.each([
    ['rec-1.site.example', 'rec-1.site.example'],
    ['host name with spaces', 'host-name-with-spaces'],
    ['_leading', 'leading'],
    ['ünïcode', 'n-code'],
    ['', 'node'],
    ['x'.repeat(80), 'x'.repeat(63)],
  ])('the host name %j becomes the default id %j', (host, id) => {
    expect(defaultNodeId(host)).toBe(id);
    expect(loadConfig({ HELDAR_NODE_ID: id }).nodeId).toBe(id);
  });

  it('parses the node settings and refuses a bad id or URL', () => {
    const cfg = loadConfig({
      HELDAR_NODE_ID: 'rec-2',
      HELDAR_NODE_URL: 'http://10.0.0.12:8080',
      HELDAR_NODE_MAX_CAMERAS: '64',
      HELDAR_STORAGE_SHARED: 'true',
    });
    expect(cfg).toMatchObject({
      nodeId: 'rec-2',
      nodeUrl: 'http://10.0.0.12:8080',
      nodeMaxCameras: 64,
      storageShared: true,
    });
    expect(loadConfig({}).nodeMaxCameras).toBe(256);
    expect(() =>
      loadConfig({ HELDAR_NODE_ID: 'a b', HELDAR_NODE_URL: 'ftp://x', HELDAR_NODE_MAX_CAMERAS: '0' }),
    ).toThrow(/HELDAR_NODE_ID.*\n?[\s\S]*HELDAR_NODE_URL[\s\S]*HELDAR_NODE_MAX_CAMERAS/);
  });
});
