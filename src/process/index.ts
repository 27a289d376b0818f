export * from './process-runner';
export * from './process-supervisor.service';
export * from './process.module';
export * from './supervised-process';
