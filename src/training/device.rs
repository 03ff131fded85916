//! Which device training runs on: CUDA when libtorch sees a GPU, the CPU otherwise.

use serde_json::{json, Value};
use tch::Device;

/// CUDA device 0 when available, else the CPU.
pub fn best_device() -> Device {
    Device::cuda_if_available()
}

/// The device as `/health` reports it.
pub fn describe() -> Value {
    let cuda = tch::Cuda::is_available();
    json!({
        "device": if cuda { "cuda" } else { "cpu" },
        "cuda_available": cuda,
        "cuda_device_count": tch::Cuda::device_count(),
        "cpu_threads": tch::get_num_threads(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    /// libtorch is linked and computes on the chosen device: a matrix product checked by hand.
    #[test]
    fn matmul_on_best_device() {
        let device = best_device();
        let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0])
            .reshape([2, 2])
            .to_device(device);
        let b = Tensor::from_slice(&[5.0f32, 6.0, 7.0, 8.0])
            .reshape([2, 2])
            .to_device(device);
        let c = a.matmul(&b).to_device(Device::Cpu).to_kind(Kind::Float);
        let got: Vec<f32> = Vec::<f32>::try_from(c.flatten(0, -1)).unwrap();
        assert_eq!(got, vec![19.0, 22.0, 43.0, 50.0]);
        assert_eq!(describe()["cuda_available"], json!(device.is_cuda()));
    }
}
