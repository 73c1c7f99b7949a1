/**
 * The runtime's error classes as the API exports them, typed without the runtime's declarations
 * (see types.ts). `instanceof` works: these are the classes the runtime throws.
 */
import { NonFiniteLossError as RuntimeNonFiniteLossError } from '../runtime/model.js';

/** Thrown when a training step's loss is not finite (NaN or ∞); the message names the bad term. */
export const NonFiniteLossError: new (message?: string) => Error = RuntimeNonFiniteLossError;
