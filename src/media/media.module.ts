import { Global, Module } from '@nestjs/common';
import { MediaService } from './media.service';
import { StorageAdapter } from './storage.adapter';

@Global()
@Module({ providers: [MediaService, StorageAdapter], exports: [MediaService, StorageAdapter] })
export class MediaModule {}
