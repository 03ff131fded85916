//! The MLP (tch) and its training loop.
//!
//! Linear -> activation -> dropout per hidden layer, then a linear layer to the 3 class logits.
//! Cross-entropy, Adam (with weight decay) or SGD (momentum 0.9), shuffled batches, early
//! stopping on the validation loss (the training loss when there is no validation set) with
//! the best epoch's weights restored. Runs on the thread that calls it (a blocking thread);
//! asks its [`Observer`] whether to stop every epoch and every [`CANCEL_CHECK_BATCHES`] batches.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use super::features::Samples;
use ktrdr_core::strategy::{Activation, Architecture, OptimizerKind, TrainingParams};

/// Batches between two cancellation checks inside an epoch.
pub const CANCEL_CHECK_BATCHES: usize = 50;

/// A network and its weights.
pub struct Mlp {
    pub vs: nn::VarStore,
    net: nn::SequentialT,
    pub inputs: i64,
}

impl Mlp {
    pub fn new(inputs: usize, arch: &Architecture, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let mut net = nn::seq_t();
        let mut width = inputs as i64;
        for (i, &h) in arch.hidden_layers.iter().enumerate() {
            net = net.add(nn::linear(
                &root / format!("hidden{i}"),
                width,
                h,
                Default::default(),
            ));
            net = match arch.activation {
                Activation::Relu => net.add_fn(|x| x.relu()),
                Activation::Tanh => net.add_fn(|x| x.tanh()),
                Activation::Sigmoid => net.add_fn(|x| x.sigmoid()),
                Activation::LeakyRelu => net.add_fn(|x| x.leaky_relu()),
                Activation::Gelu => net.add_fn(|x| x.gelu("none")),
            };
            if arch.dropout > 0.0 {
                let p = arch.dropout;
                net = net.add_fn_t(move |x, train| x.dropout(p, train));
            }
            width = h;
        }
        net = net.add(nn::linear(&root / "output", width, 3, Default::default()));
        Self {
            vs,
            net,
            inputs: inputs as i64,
        }
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn parameter_count(&self) -> i64 {
        self.vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum()
    }

    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        self.net.forward_t(x, train)
    }

    /// Class probabilities for rows of `x` (`rows * inputs` values), in eval mode.
    pub fn predict(&self, x: &[f32]) -> Vec<[f32; 3]> {
        if x.is_empty() {
            return Vec::new();
        }
        let t = Tensor::from_slice(x)
            .view([-1, self.inputs])
            .to_device(self.device());
        let p = tch::no_grad(|| self.forward(&t, false).softmax(-1, Kind::Float))
            .to_device(Device::Cpu)
            .contiguous();
        let flat: Vec<f32> = Vec::try_from(p.flatten(0, -1)).unwrap_or_default();
        flat.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()
    }

    /// Writes the weights in libtorch's module format. Through a stream on purpose: tch's
    /// `VarStore::save` writes that format for a `.pt` name but `load` reads `.pt` as a pickle
    /// and fails on its own file.
    pub fn save(&self, path: &Path) -> Result<(), tch::TchError> {
        let file = std::fs::File::create(path)?;
        let mut w = std::io::BufWriter::new(file);
        self.vs.save_to_stream(&mut w)?;
        use std::io::Write;
        w.flush()?;
        w.get_ref().sync_all()?;
        Ok(())
    }

    /// A network of this shape with the weights in `path`.
    pub fn load(
        path: &Path,
        inputs: usize,
        arch: &Architecture,
        device: Device,
    ) -> Result<Self, tch::TchError> {
        let mut m = Self::new(inputs, arch, device);
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        m.vs.load_from_stream(file)?;
        Ok(m)
    }
}

/// One epoch's numbers, as `GET /operations/{id}/metrics` shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub learning_rate: f64,
    /// Seconds.
    pub duration: f64,
    pub timestamp: String,
}

/// Where a training run reports and asks whether to go on.
pub trait Observer {
    /// A preparation step ("Computing indicators").
    fn stage(&mut self, _step: &str) {}
    /// Inside an epoch (0-based epoch and batch counters of what is done).
    fn batch(&mut self, epoch: usize, epochs: usize, batch: usize, batches: usize);
    /// After each epoch, with the whole history so far and the best epoch.
    fn epoch(&mut self, history: &[EpochMetrics], best_epoch: usize);
    fn cancelled(&self) -> bool;
}

/// An observer that shows nothing and never cancels (tests, benchmarks).
pub struct NullObserver;

impl Observer for NullObserver {
    fn batch(&mut self, _: usize, _: usize, _: usize, _: usize) {}
    fn epoch(&mut self, _: &[EpochMetrics], _: usize) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// How a training run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    pub history: Vec<EpochMetrics>,
    pub best_epoch: usize,
    pub early_stopped: bool,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

impl From<tch::TchError> for TrainError {
    fn from(e: tch::TchError) -> Self {
        TrainError::Failed(format!("libtorch: {e}"))
    }
}

fn tensors(s: &Samples, device: Device) -> (Tensor, Tensor) {
    let x = Tensor::from_slice(&s.x)
        .view([s.rows() as i64, s.cols as i64])
        .to_device(device);
    let y = Tensor::from_slice(&s.y).to_device(device);
    (x, y)
}

/// Loss and accuracy of `model` on a set, in eval mode (batched to bound memory).
pub fn evaluate(model: &Mlp, x: &Tensor, y: &Tensor) -> (f64, f64) {
    let n = y.size()[0];
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    tch::no_grad(|| {
        let mut loss = Tensor::zeros([], (Kind::Double, model.device()));
        let mut correct = Tensor::zeros([], (Kind::Int64, model.device()));
        let step = 8192;
        let mut start = 0;
        while start < n {
            let len = step.min(n - start);
            let (xb, yb) = (x.narrow(0, start, len), y.narrow(0, start, len));
            let logits = model.forward(&xb, false);
            loss += logits.cross_entropy_for_logits(&yb).to_kind(Kind::Double) * len as f64;
            correct += logits.argmax(-1, false).eq_tensor(&yb).sum(Kind::Int64);
            start += len;
        }
        (
            loss.double_value(&[]) / n as f64,
            correct.double_value(&[]) / n as f64,
        )
    })
}

/// A copy of a network's weights by name.
type Weights = Vec<(String, Tensor)>;

/// Trains `model` on `train`, watching `validation` (see the module docs).
pub fn train(
    model: &mut Mlp,
    train: &Samples,
    validation: &Samples,
    params: &TrainingParams,
    obs: &mut dyn Observer,
) -> Result<TrainOutcome, TrainError> {
    let t0 = Instant::now();
    let device = model.device();
    let (x, y) = tensors(train, device);
    let (vx, vy) = tensors(validation, device);
    let n = train.rows() as i64;
    let bs = params.batch_size as i64;
    let batches = ((n + bs - 1) / bs) as usize;
    let lr = params.learning_rate;
    let mut opt = match params.optimizer {
        OptimizerKind::Adam => nn::Adam {
            wd: params.weight_decay,
            ..Default::default()
        }
        .build(&model.vs, lr)?,
        OptimizerKind::Sgd => nn::Sgd {
            momentum: 0.9,
            wd: params.weight_decay,
            ..Default::default()
        }
        .build(&model.vs, lr)?,
    };
    let stopping = params.early_stopping.as_ref().filter(|e| e.enabled);
    let mut history: Vec<EpochMetrics> = Vec::new();
    // (monitored loss, epoch, weights) of the best epoch so far.
    let mut best: Option<(f64, usize, Weights)> = None;
    let mut since_best = 0usize;
    let mut early_stopped = false;
    for epoch in 0..params.epochs {
        if obs.cancelled() {
            return Err(TrainError::Cancelled);
        }
        let te = Instant::now();
        let perm = Tensor::randperm(n, (Kind::Int64, device));
        // Sums stay on the device: one sync per epoch, not per batch.
        let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
        let mut correct = Tensor::zeros([], (Kind::Int64, device));
        for b in 0..batches {
            if b > 0 && b % CANCEL_CHECK_BATCHES == 0 && obs.cancelled() {
                return Err(TrainError::Cancelled);
            }
            let start = b as i64 * bs;
            let len = bs.min(n - start);
            let idx = perm.narrow(0, start, len);
            let (xb, yb) = (x.index_select(0, &idx), y.index_select(0, &idx));
            let logits = model.forward(&xb, true);
            let loss = logits.cross_entropy_for_logits(&yb);
            opt.backward_step(&loss);
            tch::no_grad(|| {
                loss_sum += loss.detach().to_kind(Kind::Double) * len as f64;
                correct += logits.argmax(-1, false).eq_tensor(&yb).sum(Kind::Int64);
            });
            obs.batch(epoch, params.epochs, b + 1, batches);
        }
        let train_loss = loss_sum.double_value(&[]) / n as f64;
        let train_accuracy = correct.double_value(&[]) / n as f64;
        if !train_loss.is_finite() {
            return Err(TrainError::Failed(format!(
                "training diverged at epoch {epoch} (loss {train_loss}): lower the learning rate"
            )));
        }
        let (val_loss, val_accuracy) = evaluate(model, &vx, &vy);
        let has_val = validation.rows() > 0;
        history.push(EpochMetrics {
            epoch,
            train_loss,
            train_accuracy,
            val_loss: has_val.then_some(val_loss),
            val_accuracy: has_val.then_some(val_accuracy),
            learning_rate: lr,
            duration: te.elapsed().as_secs_f64(),
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let monitored = if has_val { val_loss } else { train_loss };
        let min_delta = stopping.map_or(0.0, |s| s.min_delta);
        let improved = best
            .as_ref()
            .is_none_or(|(b, _, _)| monitored < *b - min_delta);
        if improved {
            let weights = model
                .vs
                .variables()
                .into_iter()
                .map(|(k, v)| (k, v.detach().copy()))
                .collect();
            best = Some((monitored, epoch, weights));
            since_best = 0;
        } else {
            since_best += 1;
        }
        let best_epoch = best.as_ref().map_or(epoch, |b| b.1);
        obs.epoch(&history, best_epoch);
        if let Some(s) = stopping {
            if since_best >= s.patience {
                early_stopped = true;
                break;
            }
        }
    }
    let best_epoch = match best {
        Some((_, epoch, weights)) => {
            let mut vars = model.vs.variables();
            tch::no_grad(|| {
                for (k, w) in &weights {
                    if let Some(v) = vars.get_mut(k) {
                        v.copy_(w);
                    }
                }
            });
            epoch
        }
        None => 0,
    };
    Ok(TrainOutcome {
        history,
        best_epoch,
        early_stopped,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Accuracy, loss and class-weighted precision, recall and F1 on a held-out set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestMetrics {
    pub test_accuracy: f64,
    pub test_loss: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1_score: f64,
    pub samples: usize,
}

pub fn test_metrics(model: &Mlp, s: &Samples) -> Option<TestMetrics> {
    if s.rows() == 0 {
        return None;
    }
    let (x, y) = tensors(s, model.device());
    let (loss, _) = evaluate(model, &x, &y);
    let predicted: Vec<i64> = model
        .predict(&s.x)
        .iter()
        .map(|p| (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(1) as i64)
        .collect();
    let (accuracy, precision, recall, f1) = weighted_scores(&s.y, &predicted);
    Some(TestMetrics {
        test_accuracy: accuracy,
        test_loss: loss,
        precision,
        recall,
        f1_score: f1,
        samples: s.rows(),
    })
}

/// (accuracy, precision, recall, F1), the last three averaged over the classes weighted by
/// their support (scikit-learn's `average="weighted"`, 0 for a class never predicted).
pub fn weighted_scores(truth: &[i64], predicted: &[i64]) -> (f64, f64, f64, f64) {
    let n = truth.len() as f64;
    let mut tp = [0f64; 3];
    let mut pred = [0f64; 3];
    let mut support = [0f64; 3];
    for (&t, &p) in truth.iter().zip(predicted) {
        support[t as usize] += 1.0;
        pred[p as usize] += 1.0;
        if t == p {
            tp[t as usize] += 1.0;
        }
    }
    let accuracy = tp.iter().sum::<f64>() / n;
    let (mut precision, mut recall, mut f1) = (0.0, 0.0, 0.0);
    for c in 0..3 {
        let w = support[c] / n;
        let p = if pred[c] > 0.0 { tp[c] / pred[c] } else { 0.0 };
        let r = if support[c] > 0.0 {
            tp[c] / support[c]
        } else {
            0.0
        };
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        precision += w * p;
        recall += w * r;
        f1 += w * f;
    }
    (accuracy, precision, recall, f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_scores_by_hand() {
        // truth: 0 0 1 2 ; predicted: 0 1 1 1
        // class 0: tp 1, pred 1, support 2 -> p 1, r .5, f 2/3 ; weight .5
        // class 1: tp 1, pred 3, support 1 -> p 1/3, r 1, f .5 ; weight .25
        // class 2: tp 0, pred 0, support 1 -> 0 ; weight .25
        let (a, p, r, f) = weighted_scores(&[0, 0, 1, 2], &[0, 1, 1, 1]);
        assert_eq!(a, 0.5);
        assert!((p - (0.5 + 0.25 / 3.0)).abs() < 1e-12);
        assert!((r - (0.25 + 0.25)).abs() < 1e-12);
        assert!((f - (0.5 * 2.0 / 3.0 + 0.25 * 0.5)).abs() < 1e-12);
    }

    /// A separable problem (the class is which of three inputs is largest) is learnt.
    #[test]
    fn learns_a_separable_problem_and_reloads() {
        tch::manual_seed(7);
        let mut s = Samples {
            cols: 3,
            ..Default::default()
        };
        for i in 0..600 {
            let c = i % 3;
            let mut row = [0.1f32, 0.1, 0.1];
            row[c] = 1.0 + (i % 7) as f32 * 0.1;
            s.x.extend(row);
            s.y.push(c as i64);
            s.time.push(i as i64);
        }
        let arch = Architecture {
            hidden_layers: vec![16],
            activation: Activation::Relu,
            dropout: 0.0,
        };
        let params = TrainingParams {
            learning_rate: 0.01,
            batch_size: 32,
            epochs: 30,
            optimizer: OptimizerKind::Adam,
            weight_decay: 0.0,
            early_stopping: None,
        };
        let mut m = Mlp::new(3, &arch, Device::Cpu);
        let out = train(&mut m, &s, &s, &params, &mut NullObserver).unwrap();
        assert_eq!(out.history.len(), 30);
        let last = out.history.last().unwrap();
        assert!(last.train_accuracy > 0.95, "{last:?}");
        assert!(last.train_loss < out.history[0].train_loss);
        let tm = test_metrics(&m, &s).unwrap();
        assert!(tm.test_accuracy > 0.95 && tm.f1_score > 0.95, "{tm:?}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.pt");
        m.save(&path).unwrap();
        let back = Mlp::load(&path, 3, &arch, Device::Cpu).unwrap();
        assert_eq!(back.predict(&s.x[..30]), m.predict(&s.x[..30]));
    }
}
