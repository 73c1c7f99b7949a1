/**
 * The Layers export of networks of every kind of layer (runtime/export-layers.ts): the exported
 * artifacts, loaded by tf.loadLayersModel from memory, predict what the interpreter's runNetwork
 * computes at the same weights, each output cut from the prediction by the layout's rule
 * (output[..., offset : offset + length] reshaped to [batch, ...shape]). A conv encoder with a
 * dense head, a conv_transpose decoder whose outputs are its channels (k below, equal to and
 * above the stride, `same` and `valid`), residual blocks with pooling and upsampling, and a dense
 * network as every existing model has.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { lower } from '../../src/compiler/lower.js';
import type { Plan } from '../../src/core/plan.js';
import { describeInput, describeOutput, exportArtifacts, type NetworkSelection } from '../../src/runtime/export-layers.js';
import { initWeights, runNetwork } from '../../src/runtime/interpret.js';
import { Rng } from '../../src/runtime/rng.js';
import { blocks, convDecoder, convEncoder, convModel, convNetworks, denseNet, networkWeights } from '../helpers/nets.js';
import { expectClose } from '../helpers/tensors.js';
import { useBackend } from '../helpers/tf.js';

useBackend();

/** The conv model's plan, with the other networks beside its own (called nowhere). */
function planWithEveryNetwork(): Plan {
  const plan = convNetworks(lower(convModel()));
  const extra = [convEncoder(), convDecoder(), blocks(), denseNet()];
  return { ...plan, networks: [...plan.networks, ...extra], weights: [...plan.weights, ...extra.flatMap(networkWeights)] };
}

const ROWS = 5;

describe.each<[string, NetworkSelection]>([
  ['the conv encoder (--encoder)', 'encoder'],
  ['the conv_transpose decoder with a residual block, pooling and upsampling (--decoder)', 'decoder'],
  ['a conv encoder of odd sizes', { net: 'conv_encoder' }],
  ['a conv_transpose decoder of three channel outputs', { net: 'conv_decoder' }],
  ['residual blocks, pooling and upsampling', { net: 'blocks' }],
  ['a dense network', { net: 'mlp' }],
])('the Layers export of %s', (_, selection) => {
  it('predicts what runNetwork computes, each output cut by the layout', async () => {
    const plan = planWithEveryNetwork();
    const weights = initWeights(plan, new Rng(3));
    const before = tf.memory().numTensors;
    const { modelJson, weights: bytes, layout } = await exportArtifacts(plan, weights, selection, 'test');
    const net = plan.networks.find((n) => n.name === layout.network)!;
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: bytes.slice().buffer,
      userDefinedMetadata: modelJson.userDefinedMetadata,
    }));
    expect(model.inputs[0].shape).toEqual([null, ...layout.input.shape]);
    expect(model.outputs[0].shape).toEqual([null, ...layout.output.shape]);
    expect(JSON.parse(JSON.stringify(model.getUserDefinedMetadata()))).toEqual({ vae: JSON.parse(JSON.stringify(layout)) });
    tf.tidy(() => {
      const x = tf.randomNormal([ROWS, net.inputWidth], 0, 1, 'float32', 7);
      const predicted = model.predict(tf.reshape(x, [ROWS, ...layout.input.shape])) as tf.Tensor;
      const ours = runNetwork(net, [x], ROWS, false, weights);
      const last = layout.output.shape.length - 1;
      for (const h of layout.output.heads) {
        const begin = layout.output.shape.map((_, i) => (i === last ? h.offset : 0));
        const size = layout.output.shape.map((d, i) => (i === last ? h.length : d));
        const head = tf.reshape(tf.slice(predicted, [0, ...begin], [ROWS, ...size]), [ROWS, ...h.shape]);
        expectClose(head.dataSync(), ours.get(h.name)!.dataSync(), 1e-5, 1e-5);
      }
    });
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    weights.forEach((w) => w.dispose());
  });
});

describe('the layout of an exported network', () => {
  it('says how the image of a channels network is cut, and names the layers by the plan', async () => {
    const plan = planWithEveryNetwork();
    const weights = initWeights(plan, new Rng(3));
    const { modelJson, layout } = await exportArtifacts(plan, weights, { net: 'conv_decoder' }, 'test');
    expect(layout.output).toEqual({
      width: 4, shape: [12, 12, 4], split: 'channels', heads: [
        { name: 'loc', shape: [12, 12], offset: 0, length: 1, size: 144 },
        { name: 'scales', shape: [12, 12, 2], offset: 1, length: 2, size: 288 },
        { name: 'rest', shape: [12, 12, 1], offset: 3, length: 1, size: 144 },
      ],
    });
    expect(layout.input).toEqual({ width: 4, shape: [4], parts: [{ expr: '(the network is not called in the model)', shape: [4], offset: 0, size: 4 }] });
    const topology = modelJson.modelTopology as { config: { layers: { name: string }[] } };
    expect(topology.config.layers.map((l) => l.name)).toEqual([
      'conv_decoder_input', 'conv_decoder_hidden0', 'conv_decoder_reshape0', 'conv_decoder_hidden1', 'conv_decoder_hidden2',
      'conv_decoder_hidden2_crop', 'conv_decoder_hidden3', 'conv_decoder_hidden4',
    ]);
    const encoder = await exportArtifacts(plan, weights, 'encoder', 'test');
    expect(encoder.layout.input).toEqual({ width: 784, shape: [28, 28, 1], parts: [{ expr: 'x', shape: [28, 28, 1], offset: 0, size: 784 }] });
    expect(encoder.layout.output).toMatchObject({ width: 8, shape: [8], split: 'flat' });
    // What vae export prints.
    expect(describeInput(encoder.layout.input)).toBe('x [28, 28, 1]');
    expect(describeOutput(encoder.layout.output)).toBe('[mu (4) | log_sigma (4)]');
    expect(describeInput(layout.input)).toBe('[(the network is not called in the model) (4)]');
    expect(describeOutput(layout.output)).toBe('[12, 12, 4] channels [loc (1) | scales (2) | rest (1)]');
    weights.forEach((w) => w.dispose());
  });
});
