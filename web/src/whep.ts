/**
 * A small WHEP client (RFC 9725, as MediaMTX serves it): a recvonly offer POSTed as
 * `application/sdp`, the 201's SDP answer applied, the remote tracks shown in `video`; the
 * session resource (the 201's Location) DELETEd on stop. The promise settles once a track arrives
 * (resolves) or the session cannot start (rejects with the reason: the caller falls back to HLS).
 */
export interface WhepSession {
  stop(): void;
}

/** How long ICE gathering may take before the offer is sent with the candidates found so far. */
const GATHER_MS = 2_000;
/** How long the first track may take to arrive before WebRTC is given up. */
const TRACK_MS = 5_000;

export function playWhep(
  video: HTMLVideoElement,
  url: string,
  opts: { onFailure?: (reason: string) => void } = {},
): { session: WhepSession; started: Promise<void> } {
  const pc = new RTCPeerConnection();
  let location: string | null = null;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    pc.close();
    if (location) void fetch(location, { method: 'DELETE' }).catch(() => undefined);
  };
  const started = (async () => {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const gotTrack = new Promise<void>((resolve, reject) => {
      pc.ontrack = (ev) => {
        video.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
        resolve();
      };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'failed') reject(new Error('the WebRTC connection failed'));
      };
    });
    gotTrack.catch(() => undefined);
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = setTimeout(resolve, GATHER_MS);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    if (stopped) throw new Error('stopped');
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
    } catch {
      throw new Error('the WebRTC server did not answer');
    }
    if (res.status !== 201) throw new Error(`the WebRTC server answered HTTP ${res.status}`);
    const loc = res.headers.get('Location');
    if (loc) location = new URL(loc, url).toString();
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        gotTrack,
        new Promise<never>((_r, reject) => {
          timer = setTimeout(() => reject(new Error('no video track within 5 s')), TRACK_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  })().catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    stop();
    if (reason !== 'stopped') opts.onFailure?.(reason);
    throw err;
  });
  started.catch(() => undefined);
  return { session: { stop }, started };
}
