import { version } from '../package.json';

export const KERNEL_VERSION: string = version;
