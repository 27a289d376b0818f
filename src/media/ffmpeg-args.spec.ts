import {
  buildClipArgs,
  buildLiveSnapshotArgs,
  buildRemuxArgs,
  buildSnapshotAtArgs,
  buildConcatList,
  buildFileProbeArgs,
  buildLiveHlsArgs,
  buildProbeArgs,
  buildRecordArgs,
  buildSamplerArgs,
  parseFileProbe,
  parseProbeOutput,
} from './ffmpeg-args';

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

describe('buildRecordArgs', () => {
  it('stream-copies video into 2 s+ fragmented MP4 segments named in UTC, audio dropped', () => {
    expect(
      buildRecordArgs({ url: 'rtsp://u:p@cam/s', recordAudio: false, segmentSeconds: 60 }, '/rec/front_door'),
    ).toEqual([
      '-hide_banner',
      '-loglevel',
      'warning',
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '5000000',
      '-analyzeduration',
      '2000000',
      '-i',
      'rtsp://u:p@cam/s',
      '-map',
      '0:v:0',
      '-c:v',
      'copy',
      '-f',
      'segment',
      '-segment_time',
      '60',
      '-segment_format',
      'mp4',
      '-segment_format_options',
      'movflags=+frag_keyframe+empty_moov+default_base_moof',
      '-reset_timestamps',
      '1',
      '-segment_list',
      'pipe:1',
      '-segment_list_type',
      'csv',
      '-segment_list_flags',
      '+live',
      '-strftime',
      '1',
      '/rec/front_door/%Y-%m-%d/%Y%m%d_%H%M%S.mp4',
    ]);
  });

  it('copies audio when asked (if the camera has any), uses rw_timeout for HTTP, floors at 2 s', () => {
    const args = buildRecordArgs({ url: 'http://cam/live', recordAudio: true, segmentSeconds: 1 }, '/r/c');
    expect(args.slice(0, 5)).toEqual(['-hide_banner', '-loglevel', 'warning', '-rw_timeout', '5000000']);
    expect(args).toEqual(expect.arrayContaining(['-map', '0:a:0?', '-c:a', 'copy']));
    expect(args[args.indexOf('-segment_time') + 1]).toBe('2');
  });
});

describe('buildFileProbeArgs / parseFileProbe', () => {
  it('asks for duration and the video stream', () => {
    expect(buildFileProbeArgs('/r/c/x.mp4')).toEqual([
      '-v',
      'error',
      '-show_entries',
      'format=duration:stream=codec_type,codec_name,width,height,avg_frame_rate',
      '-of',
      'json',
      '/r/c/x.mp4',
    ]);
  });

  it('parses, and refuses empty or zero-length files', () => {
    const ok = JSON.stringify({
      format: { duration: '2.000000' },
      streams: [
        { codec_type: 'audio', codec_name: 'aac' },
        { codec_type: 'video', codec_name: 'h264', width: 320, height: 240, avg_frame_rate: '5/1' },
      ],
    });
    expect(parseFileProbe(ok)).toEqual({ durationS: 2, codec: 'h264', width: 320, height: 240, fps: 5 });
    expect(parseFileProbe(JSON.stringify({ format: { duration: '0.01' } }))).toBeNull();
    expect(parseFileProbe(JSON.stringify({ format: {} }))).toBeNull();
    expect(parseFileProbe('')).toBeNull();
  });
});

describe('buildConcatList / buildClipArgs', () => {
  it('escapes single quotes in paths', () => {
    expect(buildConcatList(['/r/a/1.mp4', "/r/o'neil/2.mp4"])).toBe(
      "file '/r/a/1.mp4'\nfile '/r/o'\\''neil/2.mp4'\n",
    );
  });

  it('copies the range out of the concatenated segments', () => {
    expect(buildClipArgs('/c/x.txt', 1.23456, 30, '/c/clip_x.mp4')).toEqual([
      '-hide_banner', '-loglevel', 'error', '-f', 'concat', '-safe', '0', '-i', '/c/x.txt',
      '-ss', '1.235', '-t', '30.000', '-c', 'copy', '-avoid_negative_ts', 'make_zero',
      '-movflags', '+faststart', '-y', '/c/clip_x.mp4',
    ]); // prettier-ignore
    expect(buildClipArgs('/c/x.txt', -2, 1, '/o.mp4')[10]).toBe('0.000');
  });
});

describe('buildRemuxArgs', () => {
  it.each([
    ['/r/cam/2026-01-01/old.mp4', '/d/playback-remux/seg_1.tmp.mp4'],
    ["/r/it's here.mp4", '/o.mp4'],
  ])(
    'stream-copies %s (video, first audio if any) into fragmented MP4 with the recorder flags',
    (src, out) => {
      expect(buildRemuxArgs(src, out)).toEqual([
      '-nostdin', '-hide_banner', '-loglevel', 'error', '-i', src,
      '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy',
      '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', '-y', out,
    ]); // prettier-ignore
    },
  );
});

describe('snapshot args', () => {
  it('grabs one JPEG frame at an offset of a recorded file', () => {
    expect(buildSnapshotAtArgs('/r/c/x.mp4', 1.5, '/t/s.jpg')).toEqual([
      '-hide_banner', '-loglevel', 'error', '-ss', '1.500', '-i', '/r/c/x.mp4',
      '-frames:v', '1', '-q:v', '3', '-f', 'image2', '-c:v', 'mjpeg', '-y', '/t/s.jpg',
    ]); // prettier-ignore
  });

  it('grabs one JPEG frame from a live RTSP source over TCP', () => {
    expect(buildLiveSnapshotArgs('rtsp://u:p@cam/s', '/t/s.jpg')).toEqual([
      '-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-timeout', '10000000', '-i', 'rtsp://u:p@cam/s',
      '-frames:v', '1', '-q:v', '3', '-f', 'image2', '-c:v', 'mjpeg', '-y', '/t/s.jpg',
    ]); // prettier-ignore
  });
});

describe('buildLiveHlsArgs', () => {
  it('stream-copies the video into a rolling 1 s HLS playlist written atomically, no stdin refusal', () => {
    expect(buildLiveHlsArgs('rtsp://u:p@cam/s', '/data/live/cam_x')).toEqual([
      '-hide_banner', '-loglevel', 'warning', '-rtsp_transport', 'tcp', '-timeout', '10000000',
      '-analyzeduration', '2000000', '-i', 'rtsp://u:p@cam/s',
      '-map', '0:v:0', '-an', '-c:v', 'copy',
      '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6',
      '-hls_flags', 'delete_segments+temp_file+independent_segments+omit_endlist',
      '-hls_allow_cache', '0',
      '-hls_segment_filename', '/data/live/cam_x/seg_%06d.ts',
      '/data/live/cam_x/index.m3u8',
    ]); // prettier-ignore
  });
});

describe('buildSamplerArgs', () => {
  const out = '/data/frames/cam_x/main.jpg';
  const tail = (fps: number, width: number) => [
    '-an', '-vf', `fps=${fps},scale=${width}:-2`, '-q:v', '5',
    '-f', 'image2', '-update', '1', '-atomic_writing', '1', '-y', out,
  ]; // prettier-ignore
  it.each([
    {
      name: "RTSP: over TCP with the socket timeout, the recorder's input analysis",
      url: 'rtsp://u:p@cam/s',
      fps: 2,
      width: 640,
      input: [
        '-rtsp_transport',
        'tcp',
        '-timeout',
        '15000000',
        '-analyzeduration',
        '2000000',
        '-i',
        'rtsp://u:p@cam/s',
      ],
    },
    {
      name: "RTSPS: the same, whatever the scheme's case",
      url: 'RTSPS://cam/s',
      fps: 1,
      width: 320,
      input: [
        '-rtsp_transport',
        'tcp',
        '-timeout',
        '15000000',
        '-analyzeduration',
        '2000000',
        '-i',
        'RTSPS://cam/s',
      ],
    },
    {
      name: 'HTTP: rw_timeout, no RTSP option',
      url: 'http://cam/video.mjpg',
      fps: 0.5,
      width: 1280,
      input: ['-rw_timeout', '15000000', '-analyzeduration', '2000000', '-i', 'http://cam/video.mjpg'],
    },
  ])('$name', ({ url, fps, width, input }) => {
    const args = buildSamplerArgs(url, fps, width, out);
    expect(args).toEqual(['-hide_banner', '-loglevel', 'warning', ...input, ...tail(fps, width)]);
    // Supervised: the supervisor stops it with `q` on stdin, which -nostdin would ignore.
    expect(args).not.toContain('-nostdin');
  });
});
