import { Logger } from '@nestjs/common';
import { EventBus, type KernelEvent } from './event-bus';
import type { EventsService } from './events.service';

let seq = 0;
const event = (eventType: string, cameraId: string | null = 'cam_1', payload = {}): KernelEvent => ({
  seq: ++seq,
  id: `e${seq}`,
  cameraId,
  siteId: null,
  eventType,
  severity: 'info',
  timestamp: '2026-01-01T00:00:00.000Z',
  payload,
  createdAt: '2026-01-01T00:00:00.000Z',
});
const flush = () => new Promise((r) => setImmediate(r));

describe('EventBus.on', () => {
  let bus: EventBus;
  let errors: jest.SpyInstance;
  beforeEach(() => {
    bus = new EventBus();
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => errors.mockRestore());

  it('calls the handler for its types only, in order, until unsubscribed', () => {
    const seen: string[] = [];
    const off = bus.on(
      ['camera_created', 'camera_deleted'],
      (e) => void seen.push(`${e.eventType}:${e.cameraId}`),
    );
    const one: string[] = [];
    const offOne = bus.on('camera_updated', (e) => void one.push(e.payload.fields.join(',')));
    bus.publish(event('camera_created', 'a'));
    bus.publish(event('camera_updated', 'a', { fields: ['name', 'enabled'] }));
    bus.publish(event('worker_thing', 'a'));
    bus.publish(event('camera_deleted', 'b'));
    off();
    offOne();
    bus.publish(event('camera_created', 'c'));
    bus.publish(event('camera_updated', 'c', { fields: ['x'] }));
    expect(seen).toEqual(['camera_created:a', 'camera_deleted:b']);
    expect(one).toEqual(['name,enabled']);
  });

  it('onAny sees every event, worker types included', () => {
    const seen: string[] = [];
    const off = bus.onAny((e) => void seen.push(e.eventType));
    bus.publish(event('camera_created'));
    bus.publish(event('door_open'));
    off();
    bus.publish(event('camera_created'));
    expect(seen).toEqual(['camera_created', 'door_open']);
  });

  it("another node's events (remote) reach only the subscribers that opted in; events$ carries them all", () => {
    const seen: Record<string, string[]> = { on: [], onRemote: [], any: [], anyRemote: [], raw: [] };
    const note = (k: string) => (e: KernelEvent) => void seen[k].push(`${e.seq}${e.remote ? 'r' : ''}`);
    bus.on('camera_updated', note('on'));
    bus.on('camera_updated', note('onRemote'), 'cache', { remote: true });
    bus.onAny(note('any'));
    bus.onAny(note('anyRemote'), 'cache', { remote: true });
    const sub = bus.events$.subscribe(note('raw'));
    const local = event('camera_updated', 'a', { fields: ['name'] });
    const remote: KernelEvent = { ...event('camera_updated', 'a', { fields: ['name'] }), remote: true };
    bus.publish(local);
    bus.publish(remote);
    sub.unsubscribe();
    const [l, r] = [`${local.seq}`, `${remote.seq}r`];
    expect(seen).toEqual({ on: [l], onRemote: [l, r], any: [l], anyRemote: [l, r], raw: [l, r] });
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom sync');
      },
    ],
    ['rejects', () => Promise.reject(new Error('boom async'))],
  ])(
    'a handler that %s is logged with the event type, and later events and handlers still run',
    async (_how, bad) => {
      const after: number[] = [];
      bus.on('camera_deleted', bad, 'zones');
      bus.on('camera_deleted', (e) => void after.push(e.seq));
      const a = event('camera_deleted', 'cam_9');
      const b = event('camera_deleted', 'cam_9');
      bus.publish(a);
      bus.publish(b);
      await flush();
      expect(after).toEqual([a.seq, b.seq]);
      expect(errors).toHaveBeenCalledTimes(2);
      const [fields, text] = errors.mock.calls[0] as [Record<string, unknown>, string];
      expect(text).toBe('event handler failed');
      expect(fields).toMatchObject({
        event_type: 'camera_deleted',
        seq: a.seq,
        camera_id: 'cam_9',
        handler: 'zones',
      });
      expect((fields.err as Error).message).toMatch(/^boom/);
    },
  );

  it('emit takes kernel types only, each with its payload (checked by the compiler)', () => {
    const emit = jest.fn();
    const events = { emit, emitExternal: emit } as unknown as EventsService;
    void events.emit({ type: 'camera_deleted', cameraId: 'c' });
    void events.emit({ type: 'camera_created', cameraId: 'c', payload: { name: 'Gate' } });
    // @ts-expect-error an unknown type does not compile
    void events.emit({ type: 'camera_exploded', cameraId: 'c' });
    // @ts-expect-error nor a kernel type without its payload
    void events.emit({ type: 'camera_created', cameraId: 'c' });
    // @ts-expect-error nor with another type's payload
    void events.emit({ type: 'audit_head', payload: { name: 'x' } });
    void events.emitExternal({ type: 'door_open', payload: { any: 1 } });
    expect(emit).toHaveBeenCalledTimes(6);
  });
});
