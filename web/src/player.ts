// The light build: no subtitles, alternate audio or DRM, which the kernel's streams never carry.
import Hls from 'hls.js/light';

/** Plays an HLS URL in `video` (hls.js over MSE; Safari's native HLS otherwise). Returns a stopper. */
export function playHls(
  video: HTMLVideoElement,
  url: string,
  opts: { live?: boolean; onError?: (message: string) => void; startAtMs?: number } = {},
): { hls: Hls | null; readonly aligned: boolean; destroy(): void } {
  /** False until playback has reached `startAtMs` (the frames before it are not "playing from there"). */
  let aligned = true;
  let stopAlign: () => void = () => undefined;
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
    // A recorded playlist starts at the keyframe (or segment) before the wanted instant: once the
    // first frame is decoded, seek forward to the instant itself by the footage's own clock.
    const startAt = opts.startAtMs;
    if (startAt !== undefined) {
      aligned = false;
      // Checked on every decoded position until there (hls.js may still move the start itself).
      let tries = 0;
      const align = () => {
        const d = hls.playingDate;
        if (!d || video.readyState < 2 || video.seeking) return; // not decoded yet: the next event
        const lag = (startAt - d.getTime()) / 1000;
        // Either way: a position read before hls.js settled its start can be past the instant too.
        if (Math.abs(lag) > 0.25 && lag < 600 && tries < 4 && video.currentTime + lag >= 0) {
          tries++;
          video.currentTime += lag;
          return;
        }
        stopAlign();
        aligned = true;
      };
      const on = ['loadeddata', 'timeupdate', 'seeked'] as const;
      for (const e of on) video.addEventListener(e, align);
      stopAlign = () => {
        for (const e of on) video.removeEventListener(e, align);
      };
    }
    hls.loadSource(url);
    hls.attachMedia(video);
    return {
      hls,
      get aligned() {
        return aligned;
      },
      destroy() {
        stopAlign();
        hls.destroy();
      },
    };
  }
  video.src = url;
  void video.play().catch(() => undefined);
  return {
    hls: null,
    aligned: true,
    destroy() {
      video.removeAttribute('src');
      video.load();
    },
  };
}
