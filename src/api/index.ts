export { buildApp, type BuildAppOptions } from './buildApp.ts';
export { answerFor } from './errorHandler.ts';
export { CORRELATION_ID_HEADER, REQUEST_ID_HEADER } from './requestContext.ts';
