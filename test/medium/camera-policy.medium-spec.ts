import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { CamerasRepository } from '../../src/cameras/cameras.repository';
import { CamerasService } from '../../src/cameras/cameras.service';
import { serverTimeZone } from '../../src/common/time-zone';
import { SitesService } from '../../src/cameras/sites.service';
import { SecretBox } from '../../src/common/secret-box';
import { RecorderService } from '../../src/recorder/recorder.service';
import { startMediumKernel, type MediumKernel } from '../support/medium-kernel';
import { ENGINE } from '../support/test-db';

describe(`camera policy: the loops' view of a camera, from memory (${ENGINE})`, () => {
  let k: MediumKernel;
  let cameras: CamerasService;

  beforeAll(async () => {
    k = await startMediumKernel();
    cameras = k.get(CamerasService);
  });

  afterAll(async () => {
    await k?.close();
  });

  afterEach(() => jest.restoreAllMocks());

  it('carries mode, segment length, rolls, zone and flags; never opens a credential', async () => {
    const id = await k.uniqueCamera('pol', {
      main_stream_url: 'rtsp://admin:hunter2@10.0.0.9/main',
      record_mode: 'scheduled_event',
      segment_seconds: 6,
      pre_roll_seconds: 4,
      post_roll_seconds: 12,
      record_enabled: false,
    });
    // The recorder reacts to camera_created by reading its record target (a credential): let it.
    await new Promise((r) => setImmediate(r));
    await k.get(RecorderService).settled();
    cameras.invalidatePolicies(); // the reads below load the policies again
    const open = jest.spyOn(k.get(SecretBox), 'open');
    const policy = await cameras.getPolicy(id);
    expect(policy).toEqual({
      id,
      enabled: true,
      recordEnabled: false,
      recordMode: 'scheduled_event',
      segmentSeconds: 6,
      preRollSeconds: 4,
      postRollSeconds: 12,
      timezone: serverTimeZone(),
    });
    expect((await cameras.listPolicies()).find((p) => p.id === id)).toEqual(policy);
    expect(JSON.stringify(await cameras.listPolicies())).not.toContain('hunter2');
    expect(open).not.toHaveBeenCalled();
    expect(await cameras.getPolicy('no_such_camera')).toBeNull();
  });

  it('is read once, and again right after a camera is created, updated or deleted', async () => {
    const id = await k.uniqueCamera('polupd', { record_mode: 'continuous', segment_seconds: 4 });
    await cameras.listPolicies();
    // Count the policy loads (other services read the cameras table on their own schedules).
    const reads = jest.spyOn(cameras as unknown as { loadPolicies: () => Promise<unknown> }, 'loadPolicies');
    for (let i = 0; i < 5; i++) await cameras.getPolicy(id);
    await cameras.listPolicies();
    expect(reads).not.toHaveBeenCalled();

    await cameras.update(SYSTEM_PRINCIPAL, id, {
      record_mode: 'event',
      segment_seconds: 8,
      post_roll_seconds: 3,
    });
    expect(await cameras.getPolicy(id)).toMatchObject({
      recordMode: 'event',
      segmentSeconds: 8,
      postRollSeconds: 3,
    });
    expect(reads).toHaveBeenCalledTimes(1);

    const other = await k.uniqueCamera('polnew');
    expect(await cameras.getPolicy(other)).toMatchObject({ id: other, recordMode: 'continuous' });
    await cameras.delete(SYSTEM_PRINCIPAL, other);
    expect(await cameras.getPolicy(other)).toBeNull();
    expect(reads).toHaveBeenCalledTimes(3);
  });

  it("follows its site's time zone: set, changed, and the server's once the site is deleted", async () => {
    const sites = k.get(SitesService);
    const siteId = `site_${Date.now().toString(36)}`;
    await sites.create(SYSTEM_PRINCIPAL, { id: siteId, name: siteId, timezone: 'Asia/Tokyo' });
    const id = await k.uniqueCamera('polsite', { site_id: siteId, record_mode: 'scheduled' });
    expect(await cameras.getPolicy(id)).toMatchObject({ timezone: 'Asia/Tokyo', recordMode: 'scheduled' });
    await sites.update(SYSTEM_PRINCIPAL, siteId, { timezone: 'America/Chicago' });
    expect(await cameras.getPolicy(id)).toMatchObject({ timezone: 'America/Chicago' });
    await sites.delete(SYSTEM_PRINCIPAL, siteId);
    expect(await cameras.getPolicy(id)).toMatchObject({ timezone: serverTimeZone() });
  });

  it('a camera whose sealed credentials no longer open still has its policy', async () => {
    const id = await k.uniqueCamera('polbad', { main_stream_url: 'rtsp://u:secret@10.0.0.8/s' });
    // Sealed for another row: it cannot be opened here.
    const other = await k.uniqueCamera('polsrc', { main_stream_url: 'rtsp://u:other@10.0.0.7/s' });
    const repo = k.get(CamerasRepository);
    await repo.update(id, { mainStreamUrl: (await repo.get(other))!.mainStreamUrl });
    cameras.invalidatePolicies();
    expect(await cameras.getPolicy(id)).toMatchObject({ id, segmentSeconds: 2 });
  });
});
