//! The training domain: strategy YAML -> indicators -> fuzzy memberships -> features and zigzag
//! labels -> MLP (tch) -> model folder, run as a `training` operation by the TrainingManager,
//! locally or on the training host service.

pub mod device;
pub mod features;
pub mod indicators;
pub mod labels;
pub mod manager;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod storage;
