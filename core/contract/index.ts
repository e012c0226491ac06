export * from './commands';
export * from './events';
export * from './errors';
export * from './api';
export * from './queries';
export * from './exceptions';
export * from './explain';
