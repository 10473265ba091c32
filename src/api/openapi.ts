import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { jsonSchemaTransform, validatorCompiler } from 'fastify-type-provider-zod';
import { $ZodType } from 'zod/v4/core';

/**
 * The OpenAPI 3 document, generated from the route schemas (zod for the
 * `/v1` routes), served at `/openapi.json`, with Swagger UI at `/docs`
 * (its assets ship in the package: no network needed).
 */
export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

const ZOD_PARTS = ['body', 'querystring', 'params', 'headers'] as const;

function usesZod(schema: FastifySchema | undefined): boolean {
  if (schema === undefined) return false;
  const parts = schema as Record<string, unknown>;
  if (ZOD_PARTS.some((part) => parts[part] instanceof $ZodType)) return true;
  const response = parts.response as Record<string, unknown> | undefined;
  return response !== undefined && Object.values(response).some((item) => item instanceof $ZodType);
}

/** Registers the generator; call before any route, so it sees them all. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Daybook API',
        version,
        description: [
          'Daybook\'s banking and ledger API. JSON bodies; amounts are integer strings of minor units (`"1050"` is 10.50 USD).',
          'Authenticate with a secret key: `Authorization: Bearer sk_test_…` (or Basic, the key as user). Test keys see test data, live keys live data.',
          'Every POST takes an `Idempotency-Key` header. Errors are Stripe-shaped: `{"error":{"type","code","message","param"}}`.',
        ].join('\n\n'),
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A secret API key, sk_test_… or sk_live_…' },
          basicAuth: { type: 'http', scheme: 'basic', description: 'The secret API key as user name, no password.' },
        },
      },
    },
    transform: (document) => {
      const { schema, url, route } = document;
      const transformed = usesZod(schema) ? jsonSchemaTransform(document) : { schema, url };
      const permission = route.config?.permission;
      if (permission !== undefined && permission !== 'public') {
        const security: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { basicAuth: [] }];
        const extra = { security, 'x-permission': permission };
        return { url: transformed.url, schema: { ...transformed.schema, ...extra } as FastifySchema };
      }
      return transformed;
    },
  });
}

/** The document and the UI, as public routes hidden from the document itself. */
export async function registerOpenApiRoutes(app: FastifyInstance): Promise<void> {
  app.get(OPENAPI_PATH, { schema: { hide: true }, config: { permission: 'public' } }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
}

/**
 * For a plugin whose routes use zod schemas: zod validates requests (errors
 * name the parameter); responses are written as given (their schemas document
 * them, and tests check them), so a response never turns into a 500 on the
 * way out.
 * (A POST without a body reaches the validator as `{}`: see buildApp.)
 */
export function useZod(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}
