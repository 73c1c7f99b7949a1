/** Writes the artifacts generated from the parser (syntax diagrams, CST types). */
import { writeFileSync } from 'node:fs';
import { grammarArtifacts } from '../src/compiler/grammar-artifacts.js';

for (const { path, content } of grammarArtifacts()) {
  writeFileSync(path, content);
  console.log(`wrote ${path}`);
}
