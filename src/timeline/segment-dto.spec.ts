import type { SegmentEntity } from './entities/segment.entity';
import { toSegmentDto } from './timeline.service';

const segment = (cameraId: string, path: string): SegmentEntity => ({
  id: 'seg-1',
  cameraId,
  path,
  startTime: '2026-12-01T10:00:00.000Z',
  endTime: '2026-12-01T10:01:00.000Z',
  durationS: 60,
  codec: 'h264',
  width: 640,
  height: 360,
  fps: 25,
  sizeBytes: 1234,
  container: 'mp4',
  locked: 0,
  evidenceLocked: false,
  incidentId: null,
  keptBy: null,
  nodeId: null,
  createdAt: '2026-12-01T10:01:01.000Z',
});

describe('toSegmentDto url', () => {
  it('uses the recorder’s own names as they are', () => {
    expect(toSegmentDto(segment('front', 'front/2026-12-01/20261201T100000Z.mp4')).url).toBe(
      '/media/recordings/front/2026-12-01/20261201T100000Z.mp4',
    );
    expect(toSegmentDto(segment('old', 'old/seg_0001.mp4')).url).toBe('/media/recordings/old/seg_0001.mp4');
  });

  it('encodes every part below the camera that needs it, keeping the slashes between parts', () => {
    expect(toSegmentDto(segment('yard cam', 'yard cam/2026-12-01/a b#1?.mp4')).url).toBe(
      '/media/recordings/yard%20cam/2026-12-01/a%20b%231%3F.mp4',
    );
    expect(toSegmentDto(segment('c', 'c/d%20/é.mp4')).url).toBe('/media/recordings/c/d%2520/%C3%A9.mp4');
  });

  it('gives no file part for a path without a camera folder', () => {
    expect(toSegmentDto(segment('c', 'loose.mp4')).url).toBe('/media/recordings/c/');
  });

  it('keeps kept_by of rows from before recording modes as continuous', () => {
    expect(toSegmentDto(segment('c', 'c/x.mp4')).kept_by).toBe('continuous');
  });
});
