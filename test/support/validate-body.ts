import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';

// The global pipe's options (src/app.factory.ts), without its error envelope.
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

/** The validation messages a request body gets from the global pipe for `dto` ([] when valid). */
export async function bodyMessages(dto: new () => object, body: object): Promise<string[]> {
  try {
    await pipe.transform(body, { type: 'body', metatype: dto });
    return [];
  } catch (e) {
    return (e as { getResponse(): { message: string[] } }).getResponse().message;
  }
}
