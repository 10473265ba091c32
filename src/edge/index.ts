export * from './config.ts';
export * from './errorTable.ts';
export * from './logger.ts';
export * from './retentionConfig.ts';
