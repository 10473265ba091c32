export * from './apiKey.ts';
export * from './apiKeyHasher.ts';
export * from './apiKeyRegistry.ts';
export * from './permissions.ts';
export * from './bootstrap.ts';
