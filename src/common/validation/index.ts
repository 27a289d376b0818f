export { AsWritten, NO_CONTROL, OptionalNullable, QueryLimit } from './decorators';
export { KeyedSerialQueue } from './keyed-serial-queue';
export { assertInScope, assertScoped, loadScoped, type ScopedCaller, type ScopedLookup } from './scope';
