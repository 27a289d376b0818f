import { parseWgHandshakes } from './overlay.service';

describe('parseWgHandshakes', () => {
  it('takes the newest handshake of all peers and ignores never-handshaken ones', () => {
    expect(parseWgHandshakes('peerA=\t1700000000\npeerB=\t1700000100\npeerC=\t0\n')).toBe(1700000100);
    expect(parseWgHandshakes('peerA=\t0\n')).toBeNull();
    expect(parseWgHandshakes('')).toBeNull();
    expect(parseWgHandshakes('garbage\nmore garbage')).toBeNull();
  });
});
