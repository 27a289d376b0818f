import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobeJson, type FfprobeResult } from '../fixtures/ffprobe';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';

// The e2e project's `testTimeout` in jest.config.js is not applied (Jest only honours it globally).
jest.setTimeout(120000);

function videoStream(result: FfprobeResult) {
  const stream = result.streams.find((s) => s.codec_type === 'video');
  if (!stream) throw new Error(`no video stream in ${JSON.stringify(result)}`);
  return stream;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${cmd} failed (${String(error.code ?? error.signal)}): ${stderr}`));
      else resolve();
    });
  });
}

describe('RTSP test camera fixture', () => {
  let camera: TestCamera;
  let workDir: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'heldar-test-camera-'));
    camera = await startTestCamera({ width: 320, height: 240, fps: 5, sub: { width: 160, height: 120 } });
  });

  afterAll(async () => {
    await camera?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('serves H.264 at the main size over TCP', async () => {
    expect(camera.url).toBe(`rtsp://127.0.0.1:${camera.port}/stream`);
    const stream = videoStream(await ffprobeJson(camera.url));
    expect(stream).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
  });

  it('serves the sub stream at the smaller size', async () => {
    expect(camera.subUrl).toBe(`rtsp://127.0.0.1:${camera.port}/stream_sub`);
    const stream = videoStream(await ffprobeJson(camera.subUrl!));
    expect(stream).toMatchObject({ codec_name: 'h264', width: 160, height: 120 });
  });

  it('can be recorded with ffmpeg -rtsp_transport tcp -c copy', async () => {
    const file = join(workDir, 'clip.mp4');
    await run(
      'ffmpeg',
      ['-v', 'error', '-y', '-rtsp_transport', 'tcp', '-timeout', '3000000', '-i', camera.url].concat([
        '-t',
        '3',
        '-c',
        'copy',
        '-f',
        'mp4',
        file,
      ]),
      30000,
    );
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBeGreaterThan(0);
    const probe = await ffprobeJson(file);
    expect(videoStream(probe).codec_name).toBe('h264');
    expect(Number(probe.format?.duration)).toBeGreaterThanOrEqual(2);
  });

  it('goes away on pause() and comes back on the same URL after resume()', async () => {
    const url = camera.url;
    await camera.pause();

    const started = Date.now();
    await expect(ffprobeJson(url, 15000)).rejects.toThrow(/ffprobe .* failed \(exit code/);
    expect(Date.now() - started).toBeLessThan(5000);

    await camera.resume();
    expect(camera.url).toBe(url);
    const stream = videoStream(await ffprobeJson(url));
    expect(stream).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
  });
});
