/** KL closed forms between elementwise families (registered on import; see kls.ts). */
import { registerKl } from './kl.js';

void registerKl;
