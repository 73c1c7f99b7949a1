/**
 * Preloaded with `node --import` in tests: a module-resolution hook that refuses commander and
 * the compiler (src/compiler/), so that a test can prove a module loads without them.
 */
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (specifier === 'commander' || /\\/src\\/compiler\\//.test(result.url)) {
    throw new Error('refused module ' + specifier + ' (imported from ' + context.parentURL + ')');
  }
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
