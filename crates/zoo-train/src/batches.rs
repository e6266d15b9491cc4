//! Splits as normalized f32 arrays, cut into device tensors batch by batch.

use burn::prelude::*;
use zoo_data::{DatasetInfo, Split};

/// A split normalized once (`(x/255 − mean)/std`, NCHW) and kept on the host.
#[derive(Debug, Clone)]
pub struct Tensors {
    /// Normalized pixels, `len × c × h × w`.
    pub images: Vec<f32>,
    /// Labels.
    pub labels: Vec<u16>,
    /// `[channels, height, width]`.
    pub dims: [usize; 3],
}

impl Tensors {
    /// Normalizes every image of `split`.
    pub fn new(split: &Split, info: &DatasetInfo) -> Self {
        let all: Vec<usize> = (0..split.len()).collect();
        Self {
            images: split.normalized(info, &all),
            labels: split.labels.clone(),
            dims: [info.channels, info.height, info.width],
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    fn image_len(&self) -> usize {
        self.dims.iter().product()
    }

    /// The images at `indices` as a `[n, c, h, w]` tensor.
    pub fn images_at(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        let len = self.image_len();
        let mut data = Vec::with_capacity(indices.len() * len);
        for &i in indices {
            data.extend_from_slice(&self.images[i * len..(i + 1) * len]);
        }
        let [c, h, w] = self.dims;
        Tensor::from_data(TensorData::new(data, [indices.len(), c, h, w]), device)
    }

    /// The images at `indices`, each translated by its `(dy, dx)` offset; uncovered pixels
    /// take the value a black pixel normalizes to (random-shift augmentation).
    pub fn shifted_images_at(
        &self,
        indices: &[usize],
        offsets: &[(isize, isize)],
        background: &[f32],
        device: &Device,
    ) -> Tensor<4> {
        let [c, h, w] = self.dims;
        let len = self.image_len();
        let mut data = Vec::with_capacity(indices.len() * len);
        for (&i, &(dy, dx)) in indices.iter().zip(offsets) {
            let image = &self.images[i * len..(i + 1) * len];
            for (channel, &fill) in background.iter().enumerate().take(c) {
                let plane = &image[channel * h * w..(channel + 1) * h * w];
                for y in 0..h as isize {
                    for x in 0..w as isize {
                        let (sy, sx) = (y - dy, x - dx);
                        let inside = sy >= 0 && sx >= 0 && sy < h as isize && sx < w as isize;
                        data.push(if inside {
                            plane[(sy * w as isize + sx) as usize]
                        } else {
                            fill
                        });
                    }
                }
            }
        }
        Tensor::from_data(TensorData::new(data, [indices.len(), c, h, w]), device)
    }

    /// Images `start..end` as a `[n, c, h, w]` tensor (no gather).
    pub fn images_range(&self, start: usize, end: usize, device: &Device) -> Tensor<4> {
        let len = self.image_len();
        let [c, h, w] = self.dims;
        let data = self.images[start * len..end * len].to_vec();
        Tensor::from_data(TensorData::new(data, [end - start, c, h, w]), device)
    }

    /// The labels at `indices` as an int tensor.
    pub fn labels_at(&self, indices: &[usize], device: &Device) -> Tensor<1, Int> {
        let data: Vec<i64> = indices.iter().map(|&i| self.labels[i] as i64).collect();
        Tensor::from_data(TensorData::new(data, [indices.len()]), device)
    }
}
