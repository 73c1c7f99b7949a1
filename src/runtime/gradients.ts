/**
 * Registers the gradient of every tfjs-core kernel (tfjs-core alone registers none; training
 * needs them). `#tfjs-gradients` is a subpath import of this package (package.json "imports"):
 * in a browser bundle it is tfjs-core's own registrations (`register_all_gradients`, ES modules
 * that only a bundler can load); in Node it is the `@tensorflow/tfjs` bundle, which registers the
 * same gradients into the same global registry. Its types are an empty module
 * (src/runtime/gradients-import.d.ts), so no declaration here pulls in the tfjs bundle's.
 */
import '#tfjs-gradients';

/** Imported for its effect; this marks the module as loaded. */
export const GRADIENTS_REGISTERED = true;
