export * from './assert.ts';
export * from './clock.ts';
export * from './errorCodes.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './json.ts';
export * from './limits.ts';
