import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { BadRequestError, ConflictError, SiteNotFound } from '../common/errors';
import { slugify } from '../common/ids';
import { isTimeZone } from '../common/time-zone';
import { toSiteDto } from './camera.mapper';
import { CamerasRepository } from './cameras.repository';
import { CacheInvalidation } from '../events/cache-invalidation';
import type { CreateSiteDto, SiteDto, UpdateSiteDto } from './dto/site.dto';

/**
 * The cache scope of sites (key `site`): published after a site is created, changed or deleted
 * (deleting one moves its cameras to no site). Cameras' policies hold each one's site time zone.
 */
export const SITES_CACHE = 'sites';

function checkTimeZone(tz: string | undefined): void {
  if (tz !== undefined && !isTimeZone(tz)) {
    throw new BadRequestError(
      `timezone \`${tz}\` is not an IANA time zone (e.g. UTC, Europe/Berlin)`,
      'VALIDATION_FAILED',
    );
  }
}

@Injectable()
export class SitesService {
  constructor(
    private readonly repo: CamerasRepository,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly caches: CacheInvalidation,
  ) {}

  async list(): Promise<SiteDto[]> {
    return (await this.repo.getAllSites()).map(toSiteDto);
  }

  async get(id: string): Promise<SiteDto> {
    const site = await this.repo.getSite(id);
    if (!site) throw new SiteNotFound(id);
    return toSiteDto(site);
  }

  async create(principal: Principal, dto: CreateSiteDto): Promise<SiteDto> {
    checkTimeZone(dto.timezone);
    const now = this.clock.nowIso();
    const row = {
      id: slugify(dto.id?.trim() || dto.name, 'site'),
      name: dto.name.trim(),
      timezone: dto.timezone ?? 'UTC',
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.transaction(async () => {
      if (await this.repo.getSite(row.id))
        throw new ConflictError(`site \`${row.id}\` already exists`, 'SITE_EXISTS');
      await this.repo.insertSite(row);
      await this.audit.record(principal, 'create_site', 'site', row.id, {
        name: row.name,
        timezone: row.timezone,
      });
    });
    await this.caches.publish(SITES_CACHE, { site: row.id });
    return toSiteDto(row);
  }

  async update(principal: Principal, id: string, dto: UpdateSiteDto): Promise<SiteDto> {
    checkTimeZone(dto.timezone);
    const site = await this.repo.transaction(async () => {
      await this.get(id);
      await this.repo.updateSite(id, {
        ...(dto.name !== undefined ? { name: dto.name.trim() } : {}),
        ...(dto.timezone !== undefined ? { timezone: dto.timezone } : {}),
        updatedAt: this.clock.nowIso(),
      });
      await this.audit.record(principal, 'update_site', 'site', id, { ...dto });
      return this.get(id);
    });
    await this.caches.publish(SITES_CACHE, { site: id }); // the zone of its cameras' schedules
    return site;
  }

  /** Cameras of a deleted site keep recording; their site_id becomes null. */
  async delete(principal: Principal, id: string): Promise<void> {
    await this.repo.transaction(async () => {
      if (!(await this.repo.deleteSite(id))) throw new SiteNotFound(id);
      await this.audit.record(principal, 'delete_site', 'site', id);
    });
    await this.caches.publish(SITES_CACHE, { site: id }); // its cameras fall back to the server's zone
  }
}
