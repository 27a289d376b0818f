import { BadRequestError } from '../common/errors';
import { KERNEL_EVENT_PREFIXES, KERNEL_EVENT_TYPES } from '../events/event-types';
import { parseIngest } from './ingest-parse';

const NOW = '2026-01-01T00:00:00.000Z';
const withEvent = (event_type: string) =>
  parseIngest({ camera_id: 'cam_a', task_type: 'x', event: { event_type } }, NOW);

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('parseIngest: a worker event cannot pose as a kernel event', () => {
  it.each([...Object.keys(KERNEL_EVENT_TYPES), ...KERNEL_EVENT_PREFIXES.map((p) => `${p}from_a_worker`)])(
    '%s is refused with a 400 naming the rule',
    (type) => {
      const err = thrown(() => withEvent(type));
      expect(err).toBeInstanceOf(BadRequestError);
      expect(err).toMatchObject({
        code: 'RESERVED_EVENT_TYPE',
        message: expect.stringMatching(/must not be a kernel event type or use a kernel prefix: `/),
      });
    },
  );

  it.each(['person_counted', 'motion', 'door_open'])('%s is accepted', (type) => {
    expect(withEvent(type).event).toMatchObject({ eventType: type, severity: 'info' });
  });
});
