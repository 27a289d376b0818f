import { SetMetadata } from '@nestjs/common';

export const HELDAR_MODULE_KEY = 'heldar:module';

export interface HeldarModuleMeta {
  id: string;
  name: string;
  description?: string;
}

/** Marks a Nest module as a built-in Heldar module: its lifecycle is written to `module_records`. */
export const HeldarModule = (meta: HeldarModuleMeta): ClassDecorator => SetMetadata(HELDAR_MODULE_KEY, meta);
