/**
 * The training worker's data: MNIST's four IDX files fetched from a URL (the local server's
 * `data/mnist/`, or a static site's data folder; each file plain or gzipped, as `NAME` or
 * `NAME.gz`), or IDX files the user picked. The bytes become a data set through the runtime's
 * checks (parseIdx, imagesOf, mnistDataset), as `vae train` reads them.
 *
 * This is the place for more sources (npy, image folders, Fashion-MNIST) once the data readers
 * of the language's data sources exist as pure code: each is a `DataSource` kind and a branch of
 * `loadDataset`.
 */
import { gunzipSync } from 'fflate';
import {
  DataError, imagesOf, isGzip, makeDataset, MNIST_FILES, mnistDataset, parseIdx, split, type Dataset, type DatasetChoice, type IdxArray,
} from '../browser.js';
import type { DataSource } from './protocol.js';

/** What the model's train block and its image variable ask of the data. */
export interface DataNeeds {
  /** The train block's data set; undefined when it names none. */
  choice?: DatasetChoice;
  /** The values per example of the variable the images feed (784 for `data x : binary[784]`). */
  pixels: number;
}

/** Loads the data set `source` gives, checked against what the model needs. */
export async function loadDataset(source: DataSource, needs: DataNeeds): Promise<Dataset> {
  return source.kind === 'mnist' ? loadMnist(source.base, needs) : loadFiles(source.train, source.test, needs);
}

/** IDX bytes, gunzipped first when they start with the gzip magic (as src/node/datasets.ts's decodeIdxFile, with fflate). */
export function decodeIdx(bytes: Uint8Array, where: string): IdxArray {
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${where}: corrupt gzip data: ${(e as Error).message}`);
    }
  }
  return parseIdx(bytes, where);
}

async function loadMnist(base: string, needs: DataNeeds): Promise<Dataset> {
  const { choice } = needs;
  if (!choice || choice.name !== 'mnist' || choice.args.binarize === 'static') {
    const asked = choice ? `${choice.name}${choice.args.binarize ? ` (binarize = ${choice.args.binarize})` : ''}` : 'no data set';
    throw new DataError(`the playground's data source is full MNIST, for mnist(binarize = dynamic) or mnist(binarize = none); this model's train block asks for ${asked}. ` +
      'Change its data line, or pick IDX files as the data source.');
  }
  const names: string[] = Object.values(MNIST_FILES);
  const files = new Map(await Promise.all(names.map(async (name) => [name, decodeIdx(await fetchBytes(base, name), `${base}${name}`)] as const)));
  return mnistDataset((name) => files.get(name)!, (name) => `${base}${name}`);
}

/** `base + name`, or `base + name + '.gz'` when the first is not there. */
async function fetchBytes(base: string, name: string): Promise<Uint8Array> {
  for (const url of [`${base}${name}`, `${base}${name}.gz`]) {
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new DataError(`${url}: cannot fetch (${(e as Error).message}).`);
    }
    if (response.ok) return new Uint8Array(await response.arrayBuffer());
    if (response.status !== 404) throw new DataError(`${url}: the server answered ${response.status} ${response.statusText}.`);
  }
  throw new DataError(`${base}${name}: not found (nor ${name}.gz)${base ? '; docs/playground.md says how to fill the data folder' : ''}.`);
}

/**
 * Picked IDX files: images of count×rows×cols (or count×values) bytes, grey levels 0..255 or
 * 0/1. Without a test file, the last tenth of the training file is held out as the test set.
 */
async function loadFiles(trainFile: File | string, testFile: File | string | undefined, needs: DataNeeds): Promise<Dataset> {
  const read = async (source: File | string) => {
    const file = typeof source === 'string' ? { name: source, bytes: await fetchBytes('', source) } : { name: source.name, bytes: new Uint8Array(await source.arrayBuffer()) };
    const idx = decodeIdx(file.bytes, file.name);
    if (idx.dims.length < 2 || idx.dims.length > 3) {
      throw new DataError(`${file.name}: expected images, an IDX array of count×rows×columns or count×values bytes; it is ${idx.dims.join('×')}.`);
    }
    const [count, rows, cols = 1] = idx.dims;
    if (rows * cols !== needs.pixels) {
      throw new DataError(`${file.name}: its examples have ${rows * cols} values (${rows}×${cols}), but the model's images have ${needs.pixels}.`);
    }
    return { images: imagesOf({ dims: [count, rows, cols], data: idx.data }, [count, rows, cols], false, file.name), count, rows, cols };
  };
  const train = await read(trainFile);
  const test = testFile ? await read(testFile) : undefined;
  if (test && (test.rows !== train.rows || test.cols !== train.cols)) {
    throw new DataError(`${nameOf(testFile!)}: its images are ${test.rows}×${test.cols}, the training file's ${train.rows}×${train.cols}.`);
  }
  const pixels = needs.pixels;
  const held = test ? 0 : Math.max(1, Math.floor(train.count / 10));
  if (train.count - held < 1) throw new DataError(`${nameOf(trainFile)}: has ${train.count} example; give more, or a test file.`);
  const cut = (train.count - held) * pixels;
  const binary = train.images.every((v) => v <= 1) && (!test || test.images.every((v) => v <= 1));
  return makeDataset(nameOf(trainFile), [train.rows, train.cols], binary ? 1 : 1 / 255, {
    train: split(train.images.subarray(0, cut), pixels),
    test: split(test ? test.images : train.images.subarray(cut), pixels),
  });
}

const nameOf = (source: File | string) => (typeof source === 'string' ? source : source.name);
