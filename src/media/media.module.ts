import { Global, Module } from '@nestjs/common';
import { MediaJobs, ProbeGovernor } from './media-jobs';
import { MediaService } from './media.service';
import { StorageAdapter } from './storage.adapter';

@Global()
@Module({
  providers: [MediaService, StorageAdapter, MediaJobs, ProbeGovernor],
  exports: [MediaService, StorageAdapter, MediaJobs, ProbeGovernor],
})
export class MediaModule {}
