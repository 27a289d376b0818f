import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFileProbe } from './ffmpeg-args';
import { probeMp4 } from './mp4-probe';

/** Real files from ffmpeg, checked against ffprobe's own reading of them. */
const dir = mkdtempSync(join(tmpdir(), 'heldar-mp4-'));
const ffmpeg = (args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
const ffprobe = (path: string) =>
  parseFileProbe(
    execFileSync('ffprobe', [
      '-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,width,height,avg_frame_rate',
      '-of', 'json', path,
    ]).toString(),
  ); // prettier-ignore
const video = (size: string, rate: number, seconds: number) => [
  '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}:duration=${seconds}`,
  '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(rate), '-pix_fmt', 'yuv420p',
]; // prettier-ignore

describe('probeMp4', () => {
  beforeAll(() => {
    // The recorder's own format: fragmented MP4 segments from the segment muxer.
    ffmpeg([
      ...video('320x240', 5, 7),
      '-f', 'segment', '-segment_time', '2', '-segment_format', 'mp4',
      '-segment_format_options', 'movflags=+frag_keyframe+empty_moov+default_base_moof',
      '-reset_timestamps', '1', join(dir, 'seg_%03d.mp4'),
    ]); // prettier-ignore
    ffmpeg([...video('640x360', 25, 3), '-movflags', '+faststart', join(dir, 'plain.mp4')]);
    ffmpeg([
      '-f', 'lavfi', '-i', 'sine=duration=3.5', ...video('160x120', 10, 3), '-map', '1:v', '-map', '0:a',
      '-c:a', 'aac', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', join(dir, 'with_audio.mp4'),
    ]); // prettier-ignore
  });

  it.each(['seg_000.mp4', 'seg_001.mp4', 'seg_003.mp4', 'plain.mp4', 'with_audio.mp4'])(
    '%s reads as ffprobe reads it',
    async (file) => {
      const path = join(dir, file);
      const ours = await probeMp4(path);
      const theirs = ffprobe(path)!;
      expect(ours).not.toBeNull();
      expect(ours!.durationS).toBeCloseTo(theirs.durationS, 2);
      expect(ours).toMatchObject({ codec: theirs.codec, width: theirs.width, height: theirs.height });
      expect(ours!.fps).toBeCloseTo(theirs.fps!, 0);
      // Given the size a stat just read (the indexer's case), the same answer without an fstat.
      expect(await probeMp4(path, statSync(path).size)).toEqual(ours);
    },
  );

  it('found every segment the muxer wrote', () => {
    expect(readdirSync(dir).filter((f) => f.startsWith('seg_'))).toHaveLength(4);
  });

  it('answers null for garbage, empty and missing files, and survives a truncated one', async () => {
    writeFileSync(join(dir, 'garbage.mp4'), Buffer.alloc(4096, 7));
    writeFileSync(join(dir, 'empty.mp4'), Buffer.alloc(0));
    expect(await probeMp4(join(dir, 'garbage.mp4'))).toBeNull();
    expect(await probeMp4(join(dir, 'empty.mp4'))).toBeNull();
    expect(await probeMp4(join(dir, 'missing.mp4'))).toBeNull();
    const whole = readFileSync(join(dir, 'seg_000.mp4'));
    writeFileSync(join(dir, 'cut.mp4'), whole.subarray(0, Math.floor(whole.length / 2)));
    // The fragments that are whole still count; the cut one does not.
    const cut = await probeMp4(join(dir, 'cut.mp4'));
    expect(cut?.durationS).toBeGreaterThan(0);
    expect(cut?.durationS).toBeLessThan(2);
  });
});
