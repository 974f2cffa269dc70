import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@matformer/core';
import { decodeImage, toTensorData } from './image-decode';
import { validateDataset, type ImageDataset } from './image-dataset';

/**
 * A folder with one sub-folder per class (`root/<class>/*.png|jpg`), like torchvision's
 * ImageFolder. Images are resized to size×size; classes are sorted by name.
 */
export async function loadImageFolder(
  root: string,
  { size = 28, channels = 1 as 1 | 3 } = {},
): Promise<ImageDataset> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    throw new ConfigError(`image folder "${root}" does not exist or cannot be read`);
  }
  const classes = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classes.length === 0)
    throw new ConfigError(
      `image folder "${root}" has no class sub-folders (expected ${root}/<class>/*.png)`,
    );
  const images: Float32Array[] = [];
  const labels: number[] = [];
  for (const [label, cls] of classes.entries()) {
    const files = (await readdir(join(root, cls))).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
    for (const f of files) {
      const path = join(root, cls, f);
      images.push(toTensorData(decodeImage(await readFile(path), path), size, channels));
      labels.push(label);
    }
  }
  if (labels.length === 0)
    throw new ConfigError(`image folder "${root}" holds no .png or .jpg files`);
  const flat = new Float32Array(images.length * size * size * channels);
  images.forEach((img, i) => flat.set(img, i * img.length));
  return validateDataset({
    name: root,
    images: flat,
    labels: Int32Array.from(labels),
    height: size,
    width: size,
    channels,
    classes,
  });
}
