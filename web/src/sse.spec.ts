import { parseSse } from './sse';

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
