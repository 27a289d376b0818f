import { Global, Module } from '@nestjs/common';
import { ProcessRunner } from './process-runner';
import { ProcessSupervisor } from './process-supervisor.service';

/** Child-process adapter: every long-lived child in the kernel goes through ProcessSupervisor. */
@Global()
@Module({
  providers: [ProcessRunner, ProcessSupervisor],
  exports: [ProcessRunner, ProcessSupervisor],
})
export class ProcessModule {}
