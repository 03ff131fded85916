//! Integration tests: one binary, real servers on port 0 over loopback.

mod helpers;

mod cli;
mod cli_models;
mod compat;
mod container;
mod data;
mod durable;
mod host_client;
mod ib_gateway;
mod ib_wire;
mod indicators;
mod operations;
mod processes;
mod security;
mod store_faults;
mod training;
mod websocket;
