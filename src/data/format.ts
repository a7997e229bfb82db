/** The MNIST format: 28×28 one-byte pixels per image, digits 0..9 (other data sets and their shapes: datasets.ts). */
export const IMAGE_ROWS = 28;
export const IMAGE_COLS = 28;
export const PIXELS_PER_IMAGE = IMAGE_ROWS * IMAGE_COLS; // 784
export const LABEL_COUNT = 10;
