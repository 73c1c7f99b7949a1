/** KL closed forms between vector and categorical families (registered on import; see kls.ts). */
import { registerKl } from './kl.js';

void registerKl;
