import { claimVerdict, type NodeHolder, refusalMessage } from './nodes.logic';

const me = { bootId: 'boot-me', host: 'cam-server', pid: 4242 };
const NOW = '2026-12-02T10:00:30.000Z';
const holder = (over: Partial<NodeHolder> = {}): NodeHolder => ({
  bootId: 'boot-other',
  host: 'cam-server',
  pid: 777,
  lastSeen: '2026-12-02T10:00:28.000Z', // 2 s ago: fresh
  stoppedAt: null,
  ...over,
});

describe('claimVerdict: may this kernel take the node id (SQLite: the database file)?', () => {
  const alive = () => true;
  const dead = () => false;
  it.each<[string, NodeHolder, (pid: number) => boolean, unknown]>([
    [
      'its own boot (a retried claim)',
      holder({ bootId: 'boot-me' }),
      alive,
      { take: true, why: 'same_process' },
    ],
    [
      'the holder stopped gracefully',
      holder({ stoppedAt: '2026-12-02T10:00:29.000Z' }),
      alive,
      { take: true, why: 'stopped' },
    ],
    [
      'same host, same pid (restart in process, pid 1 of a restarted container)',
      holder({ pid: 4242 }),
      alive,
      { take: true, why: 'same_process' },
    ],
    [
      'same host, its pid is gone (it crashed): the restart is not blocked',
      holder(),
      dead,
      { take: true, why: 'dead_process' },
    ],
    [
      'same host, pid alive, heartbeat fresh: refused',
      holder(),
      alive,
      { take: false, holder: { pid: 777, host: 'cam-server' } },
    ],
    [
      'same host, pid alive (reused) but silent for 15 s',
      holder({ lastSeen: '2026-12-02T10:00:15.000Z' }),
      alive,
      { take: true, why: 'silent' },
    ],
    [
      'another host, fresh: refused (its pid cannot be checked from here)',
      holder({ host: 'other' }),
      dead,
      { take: false, holder: { pid: 777, host: 'other' } },
    ],
    [
      'another host, 14.999 s silent: still refused',
      holder({ host: 'other', lastSeen: '2026-12-02T10:00:15.001Z' }),
      dead,
      { take: false, holder: { pid: 777, host: 'other' } },
    ],
    [
      'another host, silent for more than 15 s (crashed or partitioned)',
      holder({ host: 'other', lastSeen: '2026-12-02T10:00:00.000Z' }),
      dead,
      { take: true, why: 'silent' },
    ],
  ])('%s', (_what, h, pidAlive, verdict) => {
    expect(claimVerdict(h, me, NOW, pidAlive)).toEqual(verdict);
  });

  it('the refusal names the other kernel and what to do', () => {
    expect(
      refusalMessage({ pid: 777, host: 'cam-server' }, true, '/var/lib/heldar/heldar.db', 'cam-server'),
    ).toBe(
      'another Heldar kernel (pid 777 on host cam-server) is using /var/lib/heldar/heldar.db; stop it first (SQLite is single-node: one kernel per database file)',
    );
    expect(refusalMessage({ pid: 9, host: 'b' }, false, 'postgres://heldar:***@db/heldar', 'n1')).toBe(
      'another Heldar kernel (pid 9 on host b) is running as node n1 on postgres://heldar:***@db/heldar; stop it first, or give this one another HELDAR_NODE_ID',
    );
  });
});
