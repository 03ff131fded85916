//! Link libtorch so that the `ktrdr` binary and its tests run without `LD_LIBRARY_PATH`.
//!
//! tch's own link arguments do not reach this crate: the binary gets no rpath (it then fails
//! with "libtorch_cpu.so not found") and the linker drops `libtorch_cuda` as unused (no GPU even
//! where there is one). torch-sys exports its library folder as `DEP_TCH_LIBTORCH_LIB`; from it
//! we add the rpath and link `libtorch` with `--no-as-needed` into `ktrdr-server`, the tests
//! and the benchmarks.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath={lib}");
        println!("cargo:rustc-link-search=native={lib}");
        // Not for `ktrdr` (the client): it references no libtorch symbol, so `--as-needed`
        // (rustc's default) drops libtorch from it and a client verb starts in milliseconds.
        for target in ["-bin=ktrdr-server", "-tests", "-benches"] {
            println!("cargo:rustc-link-arg{target}=-Wl,--no-as-needed");
            println!("cargo:rustc-link-arg{target}=-ltorch");
        }
    }
}
