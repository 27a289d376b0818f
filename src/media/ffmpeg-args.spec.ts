import { buildProbeArgs, parseProbeOutput } from './ffmpeg-args';

describe('buildProbeArgs', () => {
  it('pulls RTSP over TCP with a socket timeout', () => {
    expect(buildProbeArgs('rtsp://u:p@cam:554/s', { ioTimeoutMs: 5000 })).toEqual([
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '5000000',
      '-analyzeduration',
      '2000000',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,avg_frame_rate',
      '-of',
      'json',
      'rtsp://u:p@cam:554/s',
    ]);
  });

  it('uses rw_timeout for HTTP sources', () => {
    expect(buildProbeArgs('http://cam/video.mjpg', { ioTimeoutMs: 2500 })).toEqual([
      '-v',
      'error',
      '-rw_timeout',
      '2500000',
      '-analyzeduration',
      '2000000',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,avg_frame_rate',
      '-of',
      'json',
      'http://cam/video.mjpg',
    ]);
  });
});

describe('parseProbeOutput', () => {
  it('reads codec, size and fps', () => {
    const out = JSON.stringify({
      streams: [{ codec_name: 'h264', width: 320, height: 240, avg_frame_rate: '25/1' }],
    });
    expect(parseProbeOutput(out)).toEqual({ codec: 'h264', width: 320, height: 240, fps: 25 });
  });

  it('tolerates 0/0 frame rates, missing streams and garbage', () => {
    expect(
      parseProbeOutput(JSON.stringify({ streams: [{ codec_name: 'hevc', avg_frame_rate: '0/0' }] })),
    ).toEqual({
      codec: 'hevc',
      width: null,
      height: null,
      fps: null,
    });
    expect(parseProbeOutput('{"streams":[]}')).toBeNull();
    expect(parseProbeOutput('not json')).toBeNull();
  });
});
