// The light build: no subtitles, alternate audio or DRM, which the kernel's streams never carry.
import Hls from 'hls.js/light';

/** Plays an HLS URL in `video` (hls.js over MSE; Safari's native HLS otherwise). Returns a stopper. */
export function playHls(
  video: HTMLVideoElement,
  url: string,
  opts: { live?: boolean; onError?: (message: string) => void; startAtMs?: number } = {},
): { hls: Hls | null; destroy(): void } {
  video.muted = true;
  video.playsInline = true;
  if (Hls.isSupported()) {
    const hls = new Hls({
      enableWorker: true,
      lowLatencyMode: false,
      liveSyncDurationCount: 2,
      manifestLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: 10_000,
          maxLoadTimeMs: 20_000,
          timeoutRetry: { maxNumRetry: 4, retryDelayMs: 500, maxRetryDelayMs: 4000 },
          errorRetry: { maxNumRetry: 8, retryDelayMs: 1000, maxRetryDelayMs: 4000 },
        },
      },
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) {
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
        else opts.onError?.(`${data.details}${data.response ? ` (HTTP ${data.response.code})` : ''}`);
      }
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      void video.play().catch(() => undefined);
    });
    // A recorded playlist starts at the keyframe before the wanted instant: seek to the instant
    // itself, by the playlist's PROGRAM-DATE-TIME (once, when it is first loaded).
    const startAt = opts.startAtMs;
    if (startAt !== undefined)
      hls.once(Hls.Events.LEVEL_LOADED, (_e, data) => {
        const first = data.details.fragments[0];
        if (!first?.programDateTime) return;
        const pos = first.start + (startAt - first.programDateTime) / 1000;
        if (pos > 0 && pos < data.details.totalduration) video.currentTime = pos;
      });
    hls.loadSource(url);
    hls.attachMedia(video);
    return {
      hls,
      destroy() {
        hls.destroy();
      },
    };
  }
  video.src = url;
  void video.play().catch(() => undefined);
  return {
    hls: null,
    destroy() {
      video.removeAttribute('src');
      video.load();
    },
  };
}
