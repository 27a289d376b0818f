/** Server-Sent Events over fetch: every event type reaches one handler; resumes with Last-Event-ID. */

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** Parses complete SSE blocks out of `buffer`; returns them and the unparsed rest (pure). */
export function parseSse(buffer: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  const blocks = buffer.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) messages.push({ id, event, data: data.join('\n') });
  }
  return { messages, rest };
}

export interface SseHandle {
  close(): void;
}

/**
 * Follows `url`: on a drop it reconnects after `retryMs` with `Last-Event-ID` (the kernel replays
 * what was missed, no gap, no duplicate). `onState` says live / reconnecting / an error message.
 */
export function followSse(
  url: string,
  onMessage: (m: SseMessage) => void,
  onState: (state: 'live' | 'reconnecting' | { error: string }) => void,
  opts: { lastId?: string; retryMs?: number } = {},
): SseHandle {
  let lastId = opts.lastId;
  const retryMs = opts.retryMs ?? 2000;
  let closed = false;
  let ctrl: AbortController | undefined;
  const run = async (): Promise<void> => {
    while (!closed) {
      ctrl = new AbortController();
      try {
        const res = await fetch(url, {
          credentials: 'same-origin',
          headers: lastId
            ? { 'Last-Event-ID': lastId, Accept: 'text/event-stream' }
            : { Accept: 'text/event-stream' },
          signal: ctrl.signal,
        });
        if (!res.ok || !res.body) {
          const body = (await res.json().catch(() => ({}))) as { error?: string };
          onState({ error: body.error ?? `${res.status} ${res.statusText}` });
          if (res.status === 401 || res.status === 403) return;
        } else {
          onState('live');
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            const parsed = parseSse(buffer + value);
            buffer = parsed.rest;
            for (const m of parsed.messages) {
              if (m.id) lastId = m.id;
              onMessage(m);
            }
          }
        }
      } catch {
        // a network drop: reconnect below
      }
      if (closed) return;
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, retryMs));
    }
  };
  void run();
  return {
    close() {
      closed = true;
      ctrl?.abort();
    },
  };
}
