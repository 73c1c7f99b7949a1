/**
 * `vae export RUN --decoder|--encoder|--net NAME -o DIR`: a trained network in the TensorFlow.js
 * Layers format (model.json + weights.bin), for `tf.loadLayersModel` in a browser or in Node.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadRun, openRun, UsageError } from './common.js';

interface ExportFlags { decoder?: boolean; encoder?: boolean; net?: string; output?: string }

const LAYOUT_HELP = `
The network is exported as a TensorFlow.js Layers model that computes what the model computes:
its layers (dense, conv2d, conv2dTranspose, flatten, reshape, pooling, upSampling2d, residual
blocks as an add) with the trained weights, then for a network whose last layer gives a vector a
linear layer holding every output head side by side.

  input   one example per row: the network's one argument in its shape (decoder(z) takes z,
          an image encoder takes [28, 28, 1] images), or several arguments flattened row-major
          and concatenated in call order
  output  after the linear layer: the heads in declaration order, each flattened row-major, side
          by side; for a network ending in an image: that image, whose channels the heads take
          in declaration order. Either way before any function of the model is applied to them

For models/mnist.vae:
  --decoder   input [z (20)]    output [logits (784)]   (pixel probabilities: sigmoid(logits))
  --encoder   input [x (784)]   output [mu (20) | log_sigma (20)]

model.json records the layout under userDefinedMetadata.vae (model.getUserDefinedMetadata() after
tf.loadLayersModel): head h is output[..., h.offset : h.offset + h.length] reshaped to
[batch, ...h.shape]. See docs/api.md.`;

export function register(program: Command): void {
  program.command('export')
    .description('Write a trained network in the TensorFlow.js Layers format (model.json + weights.bin) that tf.loadLayersModel loads in a browser or in Node.')
    .argument('<run>', 'a run directory written by `vae train`')
    .option('--decoder', 'the network that computes the likelihood\'s parameters')
    .option('--encoder', 'the network that computes the guide\'s parameters')
    .option('--net <name>', 'the network of this name (for models with several encoders or decoders)')
    .option('-o, --output <dir>', 'directory to write model.json and weights.bin into')
    .addHelpText('after', LAYOUT_HELP)
    .action(exportCommand);
}

async function exportCommand(run: string, flags: ExportFlags): Promise<void> {
  const chosen = [flags.decoder && '--decoder', flags.encoder && '--encoder', flags.net !== undefined && '--net'].filter(Boolean);
  if (chosen.length === 0) throw new UsageError('say which network to export: --decoder, --encoder or --net NAME.');
  if (chosen.length > 1) throw new UsageError(`give one of --decoder, --encoder and --net, not ${chosen.join(' and ')}.`);
  if (flags.output === undefined) throw new UsageError('say where to write the network: -o DIR.');
  const output = flags.output;
  const dir = await openRun(run);
  const { assertOutputDirectory } = await import('../node/run-dir.js');
  assertOutputDirectory(output, 'model.json and weights.bin');
  // The backend does not change the exported values; take the default without printing it.
  const { selectBackend } = await import('../runtime/backend.js');
  await selectBackend();
  const { plan, vae } = await loadRun(dir);
  const { ExportError, describeInput, describeOutput } = await import('../runtime/export-layers.js');
  const { exportNetwork } = await import('../node/export-network.js');
  const selection = flags.decoder ? 'decoder' : flags.encoder ? 'encoder' : { net: flags.net! };
  try {
    const { layout } = await exportNetwork(plan, vae.weights, selection, output);
    console.log(`wrote ${join(output, 'model.json')} and weights.bin: network ${layout.network} of ${layout.model}, ` +
      `input ${describeInput(layout.input)}, output ${describeOutput(layout.output)}`);
  } catch (e) {
    if (e instanceof ExportError) throw new UsageError(`${run}: ${e.message}`);
    throw e;
  } finally {
    vae.dispose();
  }
}
