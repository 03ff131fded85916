//! The training domain. So far: the compute device (libtorch through tch).

pub mod device;
