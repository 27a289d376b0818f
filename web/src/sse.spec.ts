import { followSse, parseSse } from './sse';

describe('parseSse', () => {
  it.each([
    ['id: 1\nevent: a\ndata: {"x":1}\n\n', [{ id: '1', event: 'a', data: '{"x":1}' }], ''],
    ['id: 1\ndata: x\n\nid: 2\nda', [{ id: '1', event: 'message', data: 'x' }], 'id: 2\nda'],
    [': ping\n\n', [], ''],
    ['data: a\ndata: b\n\n', [{ id: undefined, event: 'message', data: 'a\nb' }], ''],
    ['id: 3\r\nevent: e\r\ndata: y\r\n\r\n', [{ id: '3', event: 'e', data: 'y' }], ''],
    ['event: only\n\n', [], ''],
    ['data:nospace\n\n', [{ id: undefined, event: 'message', data: 'nospace' }], ''],
  ])('%j', (input, messages, rest) => {
    expect(parseSse(input)).toEqual({ messages, rest });
  });
});

describe('followSse', () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  const stream = (text: string) =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(text));
          c.close(); // the connection drops after this
        },
      }),
      { status: 200, headers: { 'Content-Type': 'text/event-stream' } },
    );

  it('after a drop, reconnects with Last-Event-ID = the last id seen, and delivers every event type', async () => {
    const calls: Array<Record<string, string>> = [];
    const bodies = [
      'id: 4\nevent: camera_created\ndata: {"seq":4}\n\nid: 5\nevent: zone_enter\ndata: {"seq":5}\n\n',
      'id: 6\nevent: camera_offline\ndata: {"seq":6}\n\n',
    ];
    globalThis.fetch = jest.fn(async (_url: unknown, init?: RequestInit) => {
      calls.push({ ...(init?.headers as Record<string, string>) });
      const body = bodies.shift();
      return body === undefined ? new Promise<Response>(() => undefined) : stream(body);
    }) as typeof fetch;
    const got: string[] = [];
    const states: unknown[] = [];
    const h = followSse(
      '/api/v1/events/stream',
      (m) => got.push(`${m.id}:${m.event}`),
      (s) => states.push(s),
      { lastId: '3', retryMs: 10 },
    );
    for (let i = 0; i < 100 && calls.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    h.close();
    expect(got).toEqual(['4:camera_created', '5:zone_enter', '6:camera_offline']);
    expect(calls.map((c) => c['Last-Event-ID'])).toEqual(['3', '5', '6']);
    expect(states.slice(0, 3)).toEqual(['live', 'reconnecting', 'live']);
  });

  it('stops on 401/403 and reports the API message', async () => {
    globalThis.fetch = jest.fn(
      async () =>
        new Response(JSON.stringify({ error: 'authentication required', code: 'UNAUTHORIZED' }), {
          status: 401,
        }),
    ) as typeof fetch;
    const states: unknown[] = [];
    followSse(
      '/s',
      () => undefined,
      (s) => states.push(s),
      { retryMs: 10 },
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(states).toEqual([{ error: 'authentication required' }]);
    expect(globalThis.fetch).toHaveBeenCalledTimes(1);
  });
});
